"""Plain-text tables in the paper's layouts (Markdown pipes, so they paste into notes), from summaries."""
from __future__ import annotations

from typing import Sequence

# DragGAN paper (REFERENCE.md section 2): MD in px at 512 on FFHQ-512, per point count.
PAPER_TABLE1 = (
    ("No edit (paper, FFHQ-512)", {1: 12.93, 5: 11.66, 68: 16.02}, "-", "-"),
    ("UserControllableLT (paper)", {1: 11.64, 5: 10.41, 68: 10.15}, "-", "-"),
    ("DragGAN (paper, FFHQ-512)", {1: 2.44, 5: 3.18, 68: 4.73}, "9.28", "2.0 s (RTX 3090)"),
)
# Paper Table 2, DragGAN row: (MSE x 1e2, LPIPS x 10) per dataset.
PAPER_TABLE2 = {"lion": (0.66, 0.72), "cat": (1.04, 0.82), "dog": (0.48, 0.44), "car": (1.67, 0.74)}


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown pipe table; cells are str()-ed, columns padded to their widest cell."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    if any(len(r) != len(headers) for r in cells):
        raise ValueError("every row needs one cell per header")
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def landmark_table(summary: dict[int, dict], *, model: str, image_size: int, device: str) -> str:
    """Paper Table 1 (MD at 512, model px in brackets), with the paper's rows above ours."""
    counts = sorted(summary)
    headers = ["Method"] + [f"{n} point{'s' if n > 1 else ''}" for n in counts] + ["FID", "Time"]
    rows = []
    for name, mds, fid, time in PAPER_TABLE1:
        rows.append([name] + [fmt(mds.get(n)) if n in mds else "-" for n in counts] + [fid, time])

    def md_cell(n: int, key: str) -> str:
        px = summary[n][key]
        return "n/a" if px is None else f"{px * 512 / image_size:.2f} ({px:.2f})"

    rows.append([f"No edit ({model})"] + [md_cell(n, "no_edit_md_px") for n in counts] + ["-", "-"])
    times = [s["seconds_per_edit"] for s in summary.values() if s["seconds_per_edit"] is not None]
    time = f"{sum(times) / len(times):.2f} s ({device})" if times else "n/a"
    rows.append([f"DragGAN (ours, {model})"] + [md_cell(n, "md_px") for n in counts] + ["not measured", time])
    title = (f"Table 1. Face landmark manipulation: mean distance to the targets (MD), px at 512 "
             f"(px at {image_size} in brackets); lower is better.")
    return title + "\n" + format_table(headers, rows)


def landmark_details(summary: dict[int, dict]) -> str:
    headers = ["points", "edits", "face lost", "MD / no-edit MD", "tracked MD px", "steps (mean / median)", "converged",
               "s / edit", "ms / step", "identity change A->result", "same person", "identity A->B"]
    rows = []
    for n, s in sorted(summary.items()):
        rows.append([
            n, s["edits"], f"{s['face_lost']} ({100 * s['face_lost_share']:.0f} %)", fmt(s["ratio"]),
            fmt(s.get("tracked_md_px")),
            f"{fmt(s['steps_mean'], 1)} / {s['steps_median']:g}", f"{100 * s['converged_share']:.0f} %",
            fmt(s["seconds_per_edit"]), fmt(None if s["seconds_per_step"] is None else 1e3 * s["seconds_per_step"], 1),
            fmt(s["identity_change"], 3),
            "n/a" if s["identity_same_share"] is None else f"{100 * s['identity_same_share']:.0f} %",
            fmt(s["identity_no_edit"], 3),
        ])
    note = ("MD / no-edit MD over the edits whose face was re-detected; tracked MD: the drag's own final "
            "handle-target distance (model px), for comparison with the re-detected MD; identity = dlib face "
            "descriptor distance (< 0.6: same person for dlib).")
    return format_table(headers, rows) + "\n" + note


def paired_table(summary: dict, *, model: str, backbone: str | None) -> str:
    """Paper Table 2 (MSE x 1e2, perceptual x 10), the paper's DragGAN rows and ours."""
    lpips_labels = {"lpips-vgg": "LPIPS", "lpips-alex": "LPIPS-Alex"}  # both LPIPS v0.1, ImageNet trunks
    label = lpips_labels.get(backbone, f"perceptual ({backbone})" if backbone else "perceptual")
    headers = ["Dataset", "MSE x1e2", f"{label} x10", "steps", "s / edit"]
    rows = [[f"{name} (paper, DragGAN)", fmt(mse), fmt(lp), "-", "-"] for name, (mse, lp) in PAPER_TABLE2.items()]

    def scaled(value: float | None, factor: float) -> str:
        return fmt(None if value is None else value * factor)

    rows.append([f"{model}: no edit", scaled(summary["no_edit_mse"], 1e2), scaled(summary["no_edit_perceptual"], 10),
                 "-", "-"])
    rows.append([f"{model}: DragGAN (ours)", scaled(summary["mse"], 1e2), scaled(summary["perceptual"], 10),
                 fmt(summary["steps_mean"], 1), fmt(summary["seconds_per_edit"])])
    title = "Table 2. Paired image reconstruction: distance to image 2, lower is better (MSE on images in [0, 1])."
    notes = []
    if backbone is None:
        notes.append("No perceptual backbone: MSE only.")
    elif backbone not in lpips_labels:
        notes.append(f"Perceptual column: '{backbone}' backbone, NOT comparable with the paper's LPIPS.")
    return "\n".join([title, format_table(headers, rows)] + notes)


def verdict_lines(verdicts: list[dict]) -> str:
    return "\n".join(
        f"[{'met' if v['met'] else 'NOT met'}] {v['target']}: {fmt(v['value'], 3)}" for v in verdicts
    )


def ablation_table(rows: list[dict], *, image_size: int, point_counts: Sequence[int], paired: bool) -> str:
    """One row per variant: MD at 512 (ratio to no edit) per point count, faces lost, steps, time, paired figures."""
    headers = ["variant", "settings"] + [f"MD {n}p @512 (ratio)" for n in point_counts] + ["face lost", "steps", "s / edit"]
    if paired:
        headers += ["paired MSE x1e2", "paired perc. x10"]
    out = []
    for row in rows:
        lm = row["landmark"]
        cells = [row["variant"], row["settings"]]
        for n in point_counts:
            s = lm.get(n)
            cells.append("n/a" if s is None or s["md_px"] is None
                         else f"{s['md_px'] * 512 / image_size:.2f} ({fmt(s['ratio'])})")
        edits = sum(s["edits"] for s in lm.values())
        lost = sum(s["face_lost"] for s in lm.values())
        steps = [s["steps_mean"] for s in lm.values() if s["steps_mean"] is not None]
        secs = [s["seconds_per_edit"] for s in lm.values() if s["seconds_per_edit"] is not None]
        cells += [f"{lost}/{edits}", fmt(sum(steps) / len(steps), 1) if steps else "n/a",
                  fmt(sum(secs) / len(secs)) if secs else "n/a"]
        if paired:
            p = row.get("paired") or {}
            mse, perc = p.get("mse"), p.get("perceptual")
            cells += [fmt(None if mse is None else mse * 1e2), fmt(None if perc is None else perc * 10)]
        out.append(cells)
    if rows:  # every variant edits the same pairs: one no-edit row for all
        lm, p = rows[0]["landmark"], rows[0].get("paired") or {}
        cells = ["no edit", "-"] + [
            "n/a" if n not in lm or lm[n]["no_edit_md_px"] is None
            else f"{lm[n]['no_edit_md_px'] * 512 / image_size:.2f} (1)" for n in point_counts
        ] + ["-", "-", "-"]
        if paired:
            mse, perc = p.get("no_edit_mse"), p.get("no_edit_perceptual")
            cells += [fmt(None if mse is None else mse * 1e2), fmt(None if perc is None else perc * 10)]
        out.append(cells)
    return format_table(headers, out)
