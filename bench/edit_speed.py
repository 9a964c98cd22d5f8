#!/usr/bin/env python3
"""Seconds per stage of `cli.py edit` on the example (examples/grace_hopper.jpg + examples/points.json).

Rows: the README's main-job edit (the default model, mobilestylegan-ffhq-1024, default
settings: the device's inversion preset), the same with the 64 px demo model (--demo), and,
when a GPU is present (or with --ffhq512), the same photo and points through the FFHQ-512
StyleGAN2 architecture with random weights (its timings only: a random generator edits nothing
meaningful). Each row prints align / invert / pti / map_points / drag / blend / total seconds,
the steps each optimisation ran and its seconds per step, and the reconstruction's PSNR.

    python -m bench.edit_speed [--device auto] [--demo] [--ffhq512] [--invert-steps N] [--pti-steps N] [--drag-steps N]

The step options apply to the FFHQ-512 row only (defaults: the preset's); the example rows
always use the README command's defaults. Run it with OMP_NUM_THREADS=1 or 2 to pin the threads.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

from bench.evaluation.script_args import add_device_argument
from pipeline.common import resolve_device
from pipeline.common.images import read_photo
from pipeline.drag import DragConfig
from pipeline.edit.edit_config import EditConfig
from pipeline.edit.edit_types import STAGES
from pipeline.edit.editor import edit_photo
from pipeline.edit.edit_points import load_edit_points
from pipeline.gan.loading import load_generator
from pipeline.gan.stylegan2 import StyleGAN2Config, StyleGAN2Generator

PHOTO = ROOT / "examples" / "grace_hopper.jpg"
POINTS = ROOT / "examples" / "points.json"


def run_row(name: str, G, config: EditConfig, device: torch.device) -> dict:
    photo = read_photo(PHOTO)
    points = load_edit_points(POINTS)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    result = edit_photo(photo.pixels, points, G, config=config, device=device, name=photo.name, progress=False)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    wall = time.perf_counter() - started
    report = result.inversion.report
    stages = report.get("projection_stages") or [report.get("projection", {})]
    steps = {"invert": sum(s.get("steps", 0) for s in stages), "pti": (report.get("pti") or {}).get("steps", 0),
             "drag": result.drag.steps}
    final = (report.get("pti") or report.get("projection") or {}).get("final", {})
    return {"name": name, "seconds": result.seconds, "wall": wall, "steps": steps, "drag_status": result.drag.status,
            "psnr": final.get("psnr", float("nan")), "new_content": result.blend.new_content}


def ffhq512(device: torch.device) -> StyleGAN2Generator:
    torch.manual_seed(0)
    cfg = StyleGAN2Config(img_resolution=512, channel_base=32768, channel_max=512)
    G = StyleGAN2Generator(cfg).to(device).eval().requires_grad_(False)
    G.model_info = {"name": "stylegan2-ffhq-512 architecture, random weights", "crop_convention": "ffhq"}
    return G


def print_rows(rows: list[dict], device: torch.device) -> None:
    cpu = f"{os.cpu_count()} CPU threads, torch {torch.get_num_threads()} threads"
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    print(f"\nedit speed, seconds per stage ({gpu or 'CPU'}; {cpu})")
    header = f"{'row':<44}" + "".join(f"{s:>11}" for s in (*STAGES, "total")) + "   steps (invert/pti/drag) and s/step"
    print(header)
    for row in rows:
        secs = row["seconds"]
        per = "/".join(str(row["steps"][k]) for k in ("invert", "pti", "drag"))
        rates = ", ".join(f"{k} {secs[k] / row['steps'][k]:.3f}" for k in ("invert", "pti", "drag") if row["steps"][k])
        print(f"{row['name']:<44}" + "".join(f"{secs[s]:>11.2f}" for s in (*STAGES, "total")) + f"   {per}  ({rates})"
              f"  drag {row['drag_status']}, PSNR {row['psnr']:.2f} dB, new content {100 * row['new_content']:.1f}%")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_device_argument(parser)
    parser.add_argument("--demo", action="store_true", help="also the row of the 64 px demo model")
    parser.add_argument("--ffhq512", action="store_true", help="also the FFHQ-512 row without a GPU (slow on a CPU)")
    parser.add_argument("--skip-example", action="store_true", help="only the FFHQ-512 row")
    parser.add_argument("--invert-steps", type=int, default=None, help="FFHQ-512 row: projection steps")
    parser.add_argument("--pti-steps", type=int, default=None, help="FFHQ-512 row: PTI steps")
    parser.add_argument("--drag-steps", type=int, default=None, help="FFHQ-512 row: drag steps at most")
    args = parser.parse_args()
    device = resolve_device(args.device)
    rows = []
    if not args.skip_example:
        G = load_generator("mobilestylegan-ffhq-1024", device=device)
        rows.append(run_row("example, mobilestylegan-ffhq-1024 (README)", G, EditConfig(), device))
    if args.demo:
        G = load_generator("demo-face-64", device=device)
        rows.append(run_row("example, demo-face-64", G, EditConfig(), device))
    if device.type == "cuda" or args.ffhq512:
        config = EditConfig(
            invert_steps=args.invert_steps, pti_steps=args.pti_steps,
            drag=DragConfig(max_steps=args.drag_steps) if args.drag_steps is not None else DragConfig(),
        )
        rows.append(run_row("example, FFHQ-512 architecture (random weights)", ffhq512(device), config, device))
    print_rows(rows, device)


if __name__ == "__main__":
    main()
