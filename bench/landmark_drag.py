#!/usr/bin/env python3
"""Face landmark manipulation, DragGAN paper Table 1: drag one face's dlib landmarks onto another's.

    python -m bench.landmark_drag [--model M] [--pairs 20] [--points 1,5,68] [--seed 0]
        [--device auto] [--threads N] [--out out/bench]
        [ablation switches: --tracking-norm l1|l2, --feature-block B, --r1 PX_AT_512,
         --optimize-ws N|all, --max-steps N, --lr X, --set FIELD=VALUE]

Protocol: bench/evaluation/landmark_protocol.py. Prints Table 1 in the paper's layout (MD in px
at 512, the model's px in brackets), a details table (faces lost, steps, times, identity change)
and issues 8 and 14's targets; writes the same text and a JSON of every edit to --out.

Full size (StyleGAN2 FFHQ-512 on one GPU; `python cli.py weights fetch stylegan2-ffhq-512x512` first):

    python -m bench.landmark_drag --model stylegan2-ffhq-512x512 --pairs 100 --device cuda
"""
from __future__ import annotations

import argparse
import sys
import time

from bench.evaluation.drag_options import add_drag_arguments, build_config, variant_from_args
from bench.evaluation.landmark_protocol import run_landmark_edits, summarize, verdicts
from bench.evaluation.bench_report import (
    config_record, model_label, model_record, run_stem, settings_line, write_report,
)
from bench.evaluation.script_args import (
    add_common_arguments, landmark_protocol_from_args, parse_points, set_up, warm_pairs,
)
from bench.evaluation.tables import landmark_details, landmark_table, verdict_lines
from pipeline.common import UserError


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(ap, pairs=20)
    ap.add_argument("--points", type=parse_points, default=(1, 5, 68), help="landmarks per edit, e.g. 1,5,68")
    add_drag_arguments(ap)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    try:
        device, G = set_up(args)
        config = build_config(G, variant_from_args(args))
        protocol = landmark_protocol_from_args(args, args.points)
    except (UserError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    progress = not args.no_progress
    # 1. Pairs of detected faces; 2. the drags; 3. re-detection and the figures.
    pairs, tried = warm_pairs(G, protocol, config, device=device, progress=progress)
    if not pairs:
        print(f"error: dlib found no pair of faces in {tried} candidate pairs: check the model", file=sys.stderr)
        return 1
    edits, settings = run_landmark_edits(G, pairs, protocol, config=config, device=device, progress=progress)
    summary = summarize(edits, image_size=G.img_resolution)
    checks = verdicts(summary)
    wall = time.perf_counter() - started

    model = model_label(G)
    text = "\n\n".join([
        landmark_table(summary, model=model, image_size=G.img_resolution, device=device.type),
        landmark_details(summary),
        "\n".join([f"{len(pairs)} pairs ({tried} candidate pairs looked at, {tried - len(pairs)} without two faces), "
                   f"seed {args.seed}, psi {args.psi}, {G.img_resolution} px, device {device}"]
                  + [f"{n} points: {settings_line(s)}" for n, s in sorted(settings.items())]),
        "Targets (issues 8 and 14: the demo generator and the default model):\n" + verdict_lines(checks),
        f"wall time {wall:.0f} s",
    ])
    print(text)
    stem = run_stem("landmark_drag", model, pairs=args.pairs, seed=args.seed)
    txt, js = write_report(args.out, stem, text, {
        "protocol": protocol.to_dict(), "model": model_record(G), "device": str(device),
        "drag_config": config_record(config), "drag_settings": settings,
        "candidate_pairs": tried, "pairs": [{"index": p.index, "seeds": p.seeds} for p in pairs],
        "summary": summary, "verdicts": checks, "edits": [e.to_dict() for e in edits], "wall_seconds": wall,
    })
    print(f"wrote {txt} and {js}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
