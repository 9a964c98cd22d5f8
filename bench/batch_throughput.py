"""Photos per minute of `cli.py batch` on this machine: the local engine with 1 and 2 workers and
the Ray engine with 1 and 2 actors, on the same photos with the same settings, in one run; and
the time per photo the Ray engine adds over the local engine with as many workers.

    python -m bench.batch_throughput [--photos DIR] [--copies 2] [--model demo-face-64]
        [--invert-steps 12] [--pti-steps 6] [--steps 15] [--address auto|HOST:PORT] [--out out/bench]

Defaults: the five shared portraits (tests/data/photos) twice each, on the 64 px demo model with
short schedules, so that the run takes minutes and the engines' own costs (starting Ray, the
actors loading the model, scheduling, records) are a visible share. For the default model's
figures pass `--model mobilestylegan-ffhq-1024 --invert-steps 100 --pti-steps 120 --steps 300`
(about 4 minutes a photo on 2 CPU cores). Each configuration writes into its own fresh folder;
the wall time includes starting the workers (and a local Ray instance unless --address).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.evaluation.bench_report import write_report
from pipeline.common import UserError
from pipeline.drag import DragConfig
from pipeline.edit.batch_runner import plan_batch, run_batch
from pipeline.edit.batch_worker import EditWorkerFactory
from pipeline.edit.edit_config import EditConfig
from pipeline.edit.edit_points import load_edit_points
from pipeline.edit.local_engine import LocalEngine
from pipeline.gan.loading import resolve_model_arg, resolve_model_path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = (("local", 1), ("local", 2), ("ray", 1), ("ray", 2))


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, default=ROOT / "tests" / "data" / "photos", help="folder of portraits")
    ap.add_argument("--copies", type=int, default=2, help="each photo this many times (a longer batch)")
    ap.add_argument("--points", type=Path, default=ROOT / "examples" / "points.json", help="points file")
    ap.add_argument("--model", default="demo-face-64", help="registry name or checkpoint (default demo-face-64)")
    ap.add_argument("--invert-steps", type=int, default=12)
    ap.add_argument("--pti-steps", type=int, default=6)
    ap.add_argument("--steps", type=int, default=15, help="drag steps at most")
    ap.add_argument("--address", default=None, help="Ray cluster to use (default: a local Ray instance per run)")
    ap.add_argument("--only", default=None, help="comma-separated configurations, e.g. local1,ray2")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "bench", help="folder for the .txt and .json reports")
    return ap


def engine_for(kind: str, workers: int, address: str | None):
    if kind == "local":
        return LocalEngine(("cpu",) * workers, threads_per_worker=1 if workers > 1 else None)
    from pipeline.edit.ray_engine import RayEngine

    return RayEngine(address=address, workers=workers, gpus_per_worker=0, worker_logs=False)


def run_one(kind: str, workers: int, src: Path, factory, args, scratch: Path) -> dict:
    out = scratch / f"{kind}{workers}"
    jobs = plan_batch(src, out)
    started, started_clock = time.perf_counter(), time.time()
    outcome = run_batch(jobs, factory, output_dir=out, engine=engine_for(kind, workers, args.address), progress=False)
    wall = time.perf_counter() - started
    per_photo = [rec.get("seconds", 0.0) for rec in outcome.records.values()]
    stamps = [p.stat().st_mtime for p in (out / "reports").glob("*.json")]
    first = min(stamps) - started_clock if stamps else None  # start to the first record: workers' start-up + 1 photo
    return {"engine": kind, "workers": workers, "photos": len(jobs), "failed": len(outcome.failed),
            "wall_s": round(wall, 2), "photos_per_minute": round(60 * len(jobs) / wall, 2),
            "first_photo_s": None if first is None else round(first, 2),
            "mean_photo_s": round(statistics.mean(per_photo), 2) if per_photo else None}


def table(rows: list[dict]) -> str:
    lines = [f"{'engine':<8}{'workers':>8}{'photos':>8}{'failed':>8}{'wall s':>9}{'photos/min':>12}"
             f"{'first photo s':>15}{'in-worker s/photo':>19}"]
    for r in rows:
        lines.append(f"{r['engine']:<8}{r['workers']:>8}{r['photos']:>8}{r['failed']:>8}{r['wall_s']:>9.1f}"
                     f"{r['photos_per_minute']:>12.2f}{r['first_photo_s'] or 0:>15.1f}{r['mean_photo_s'] or 0:>19.2f}")
    by = {(r["engine"], r["workers"]): r for r in rows}
    for workers in (1, 2):
        local, ray = by.get(("local", workers)), by.get(("ray", workers))
        if local and ray and local["first_photo_s"] is not None and ray["first_photo_s"] is not None:
            start_up = ray["first_photo_s"] - local["first_photo_s"]
            after = (ray["wall_s"] - ray["first_photo_s"]) - (local["wall_s"] - local["first_photo_s"])
            per_photo = after * workers / max(ray["photos"] - 1, 1)
            lines.append(f"Ray, {workers} actor(s) vs local, {workers} worker(s): {start_up:+.1f} s to start (Ray and "
                         f"its actors), then {per_photo:+.2f} s of worker time per photo; "
                         f"{ray['wall_s'] - local['wall_s']:+.1f} s in all")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        points = load_edit_points(args.points)
        model_path, _ = resolve_model_path(resolve_model_arg(args.model))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = EditConfig(invert_steps=args.invert_steps, pti_steps=args.pti_steps,
                        drag=DragConfig(max_steps=args.steps))
    factory = EditWorkerFactory(model=str(model_path), points=points, config=config)
    wanted = [c for c in CONFIGS if args.only is None or f"{c[0]}{c[1]}" in args.only.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="batch-throughput-") as tmp:
        scratch = Path(tmp)
        src = scratch / "photos"
        src.mkdir()
        for photo in sorted(p for p in args.photos.iterdir() if p.suffix.lower() in (".jpg", ".png")):
            for copy in range(args.copies):
                shutil.copy(photo, src / f"{photo.stem}_{copy}{photo.suffix}")
        for kind, workers in wanted:
            print(f"running {kind} x{workers} ...", file=sys.stderr, flush=True)
            rows.append(run_one(kind, workers, src, factory, args, scratch))
    settings = (f"model {args.model}, invert {args.invert_steps} + PTI {args.pti_steps} + drag {args.steps} steps, "
                f"points {args.points.name}, {rows[0]['photos'] if rows else 0} photos per run")
    text = f"batch throughput on this machine ({settings})\n{table(rows)}"
    print(text)
    write_report(args.out, "batch_throughput", text, {"settings": vars(args) | {"photos": str(args.photos),
                                                                                 "points": str(args.points),
                                                                                 "out": str(args.out)},
                                                       "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
