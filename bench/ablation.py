#!/usr/bin/env python3
"""Ablation table: the landmark (Table 1) and paired-reconstruction (Table 2) protocols per drag variant.

    python -m bench.ablation [--model M] [--pairs 5] [--paired-pairs 5] [--landmark-points 1,5,68]
        [--variants "default,tracking l1,..."] [--backbone auto] [--device auto] [--threads N]
        [base settings: the switches of bench/landmark_drag.py apply to every variant]

Variants (bench/evaluation/drag_options.py `ablation_variants`): the default drag; the other
tracking norm (L1 vs L2); the feature blocks either side of the default; r1 four times the
paper's; all W+ entries optimised instead of the first 6. Every variant edits the same face
pairs and image pairs. Prints one table; writes it and a JSON of every variant's summaries.

Full size (one GPU): python -m bench.ablation --model stylegan2-ffhq-512x512 --pairs 50
    --paired-pairs 50 --device cuda
"""
from __future__ import annotations

import argparse
import sys
import time

from bench.evaluation.perceptual_choice import choose_perceptual
from bench.evaluation.drag_options import (
    ablation_variants, add_drag_arguments, build_config, variant_from_args,
)
from bench.evaluation.landmark_protocol import run_landmark_edits
from bench.evaluation.landmark_protocol import summarize as summarize_landmarks
from bench.evaluation.paired_protocol import run_paired_edits
from bench.evaluation.paired_protocol import summarize as summarize_paired
from bench.evaluation.bench_report import config_record, model_label, model_record, run_stem, write_report
from bench.evaluation.script_args import (
    add_common_arguments, add_paired_arguments, landmark_protocol_from_args, paired_protocol_from_args, parse_points,
    set_up, warm_pairs,
)
from bench.evaluation.tables import ablation_table
from pipeline.common import UserError


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(ap, pairs=5)
    ap.add_argument("--landmark-points", type=parse_points, default=(1, 5, 68), dest="landmark_points",
                    help="landmarks per edit in the landmark protocol, e.g. 1,5,68")
    ap.add_argument("--paired-pairs", type=int, default=None, help="image pairs per variant (default --pairs; 0: skip)")
    ap.add_argument("--variants", default=None, help="comma-separated variant names to run (default: all)")
    add_paired_arguments(ap)
    add_drag_arguments(ap)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.perf_counter()
    paired_pairs = args.pairs if args.paired_pairs is None else args.paired_pairs
    try:
        device, G = set_up(args)
        base = build_config(G, variant_from_args(args))
        variants = ablation_variants(G, base)
        if args.variants:
            wanted = [v.strip() for v in args.variants.split(",")]
            unknown = sorted(set(wanted) - {v.name for v in variants})
            if unknown:
                raise UserError(f"unknown variant(s) {unknown}: choose from {[v.name for v in variants]}")
            variants = [v for v in variants if v.name in wanted]
        configs = [build_config(G, v, base) for v in variants]
        landmark = landmark_protocol_from_args(args, args.landmark_points)
        paired = paired_protocol_from_args(args, num_pairs=max(paired_pairs, 1))
        perceptual, backbone = choose_perceptual(args.backbone, device=device) if paired_pairs else (None, None)
    except (UserError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    progress = not args.no_progress
    pairs, tried = warm_pairs(G, landmark, base, device=device, progress=progress)
    rows = []
    for variant, config in zip(variants, configs):
        edits, settings = run_landmark_edits(G, pairs, landmark, config=config, device=device, progress=progress)
        row = {"variant": variant.name, "overrides": variant.overrides, "config": config_record(config),
               "landmark": summarize_landmarks(edits, image_size=G.img_resolution)}
        any_settings = next(iter(settings.values()), None)
        if paired_pairs:
            p_edits, any_settings = run_paired_edits(G, paired, config=config, device=device, perceptual=perceptual,
                                                     progress=progress)
            row["paired"] = summarize_paired(p_edits)
        row["settings"] = _settings_cell(any_settings)
        rows.append(row)
    wall = time.perf_counter() - started

    model = model_label(G)
    parts = [
        f"Ablation on {model} ({G.img_resolution} px, {device}): {len(pairs)} face pairs "
        f"({tried} looked at), {paired_pairs if paired_pairs else 'no'} image pairs, seed {args.seed}. "
        "MD in px at 512 (ratio to the no-edit MD); lower is better.",
        ablation_table(rows, image_size=G.img_resolution, point_counts=args.landmark_points, paired=bool(paired_pairs)),
    ]
    if G.num_ws == 1:
        parts.append("This generator has a single latent entry: 'all ws' equals the default.")
    if paired_pairs and backbone["name"] is None:
        parts.append("No perceptual backbone: paired MSE only.")
    elif paired_pairs and backbone["name"] not in ("lpips-vgg", "lpips-alex"):
        parts.append(f"Paired perceptual column: backbone {backbone['name']}, not comparable with published LPIPS.")
    parts.append(f"wall time {wall:.0f} s")
    text = "\n\n".join(parts)
    print(text)
    stem = run_stem("ablation", model, pairs=args.pairs, seed=args.seed)
    txt, js = write_report(args.out, stem, text, {
        "model": model_record(G), "device": str(device), "landmark_protocol": landmark.to_dict(),
        "paired_protocol": paired.to_dict() if paired_pairs else None, "backbone": backbone,
        "rows": rows, "wall_seconds": wall,
    })
    print(f"wrote {txt} and {js}")
    return 0


def _settings_cell(settings: dict | None) -> str:
    if not settings:
        return "n/a"
    return (f"{settings['feature_block']}, r1 {settings['r1']:g}px, {settings['tracking_norm']}, "
            f"ws {settings['num_optimized_ws']}")


if __name__ == "__main__":
    sys.exit(main())
