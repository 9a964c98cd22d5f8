#!/usr/bin/env python3
"""Paired image reconstruction, DragGAN paper Table 2: drag image 1 along its optical flow to image 2.

    python -m bench.paired_reconstruction [--model M] [--pairs 20] [--points 32] [--seed 0]
        [--flow farneback|dis] [--strength 0.3] [--perturb-ws 6] [--backbone auto|lpips-vgg|lpips-alex|none]
        [--device auto] [--threads N] [--out out/bench] [ablation switches, as bench/landmark_drag.py]

Protocol: bench/evaluation/paired_protocol.py. Prints Table 2 (MSE x 1e2 on images in [0, 1],
perceptual distance x 10, naming its backbone: 'lpips-vgg' (LPIPS v0.1, offline ImageNet trunk)
by default, 'lpips-alex' on request; MSE only when no trunk is installed).

Full size (one GPU): python -m bench.paired_reconstruction --model stylegan2-ffhq-512x512
    --pairs 100 --device cuda --backbone lpips-vgg
"""
from __future__ import annotations

import argparse
import sys
import time

from bench.evaluation.perceptual_choice import choose_perceptual
from bench.evaluation.drag_options import (
    add_drag_arguments, build_config, variant_from_args, warm_up_drag,
)
from bench.evaluation.paired_protocol import run_paired_edits, summarize
from bench.evaluation.bench_report import (
    config_record, model_label, model_record, run_stem, settings_line, write_report,
)
from bench.evaluation.script_args import (
    add_common_arguments, add_paired_arguments, paired_protocol_from_args, set_up,
)
from bench.evaluation.tables import paired_table
from pipeline.common import UserError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(ap, pairs=20)
    add_paired_arguments(ap)
    add_drag_arguments(ap)
    args = ap.parse_args(argv)
    started = time.perf_counter()
    try:
        device, G = set_up(args)
        config = build_config(G, variant_from_args(args))
        protocol = paired_protocol_from_args(args, num_pairs=args.pairs)
        perceptual, backbone = choose_perceptual(args.backbone, device=device)
    except (UserError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warm_up_drag(G, config, device=device)
    edits, settings = run_paired_edits(G, protocol, config=config, device=device, perceptual=perceptual,
                                       progress=not args.no_progress)
    if not edits:
        print("error: no pair had a trusted optical flow: try --flow dis or a larger --strength", file=sys.stderr)
        return 1
    summary = summarize(edits)
    wall = time.perf_counter() - started
    model = model_label(G)
    text = "\n\n".join([
        paired_table(summary, model=model, backbone=backbone["name"]),
        f"{summary['edits']} pairs, {summary['points_mean']:.1f} points each (mean flow {summary['mean_flow_px']:.2f} px "
        f"at {G.img_resolution}), flow {protocol.flow_method}, perturbation {protocol.perturb_strength:g} of the way "
        f"in the first {protocol.perturb_ws} ws, seed {args.seed}, device {device}\n{settings_line(settings)}\n"
        f"converged {100 * summary['converged_share']:.0f} %, steps mean {summary['steps_mean']:.1f}, "
        f"wall time {wall:.0f} s",
    ])
    print(text)
    stem = run_stem("paired_reconstruction", model, pairs=args.pairs, seed=args.seed)
    txt, js = write_report(args.out, stem, text, {
        "protocol": protocol.to_dict(), "model": model_record(G), "device": str(device), "backbone": backbone,
        "drag_config": config_record(config), "drag_settings": settings, "summary": summary,
        "edits": [e.to_dict() for e in edits], "wall_seconds": wall,
    })
    print(f"wrote {txt} and {js}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
