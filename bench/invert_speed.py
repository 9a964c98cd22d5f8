#!/usr/bin/env python3
"""Inversion speed: Adam steps per second of projection and of PTI, and the cost of re-dragging a session.

Generators: the demo model (demo-face-64, target: a real photo's aligned crop) and the FFHQ-512
StyleGAN2 architecture with random weights (target: one of its own images). Each is timed over a
few steps (loop time only, warm-up step excluded). Then one full demo inversion (--invert-steps / --pti-steps) is saved as a session, and re-dragging it is timed:
load_session alone, and load_session + a short drag, each as a share of the inversion's time
(target: < 10%).

    python -m bench.invert_speed [--device auto] [--backbone lpips-vgg] [--steps 20] [--ffhq-steps 3]
                                 [--invert-steps 1000] [--pti-steps 350] [--drag-steps 20] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch

from bench.evaluation.script_args import add_device_argument
from pipeline.common import resolve_device
from pipeline.gan.interface import LatentGenerator
from pipeline.invert import (PTIConfig, ProjectConfig, image_to_tensor, load_perceptual, load_session,
                             pivotal_tune, project, save_session, tensor_to_image)

ROOT = Path(__file__).resolve().parents[1]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_rates(G: LatentGenerator, target: torch.Tensor, *, steps: int, backbone: str, device: torch.device) -> dict:
    """Steps per second of projection and PTI (plateau and distance stops off)."""
    perceptual = load_perceptual(backbone, device=device)
    proj = project(G, target, config=ProjectConfig(num_steps=steps, plateau_window=0, backbone=backbone,
                                                   w_avg_samples=1000), device=device, perceptual=perceptual,
                   progress=False)
    tuned = pivotal_tune(G, proj, target, config=PTIConfig(num_steps=steps, stop_distance=0, backbone=backbone),
                         device=device, perceptual=perceptual, progress=False)
    return {"project_steps_per_s": 1 / proj.seconds_per_step, "pti_steps_per_s": 1 / tuned.seconds_per_step,
            "steps_timed": steps}


def redrag_cost(G: LatentGenerator, target: torch.Tensor, *, args, device: torch.device) -> dict:
    """Invert once, save, then time re-loading the session (and a short drag) against the inversion."""
    perceptual = load_perceptual(args.backbone, device=device)
    _sync(device)
    t0 = time.perf_counter()
    proj = project(G, target, config=ProjectConfig(num_steps=args.invert_steps, backbone=args.backbone),
                   device=device, perceptual=perceptual, progress=False)
    tuned = pivotal_tune(G, proj, target, config=PTIConfig(num_steps=args.pti_steps, backbone=args.backbone),
                         device=device, perceptual=perceptual, progress=False)
    _sync(device)
    invert_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        path = save_session(Path(tmp) / "session", G=G, crop=tensor_to_image(target), projection=proj, tuned=tuned)
        record = json.loads((path / "session.json").read_text())
        t0 = time.perf_counter()
        session = load_session(path, G=G, device=device)
        _sync(device)
        load_s = time.perf_counter() - t0
        drag_s = None
        try:
            from pipeline.drag import DragConfig, drag
        except ImportError:
            drag = None
        if drag is not None and args.drag_steps > 0:
            s = G.img_resolution
            t0 = time.perf_counter()
            drag(session.generator(), session.ws, [(0.40 * s, 0.55 * s)], [(0.45 * s, 0.50 * s)],
                 config=DragConfig(max_steps=args.drag_steps), device=device)
            _sync(device)
            drag_s = time.perf_counter() - t0
    return {
        "invert_seconds": invert_s, "projection_steps": proj.steps, "pti_steps": tuned.steps,
        "session_load_seconds": load_s, "drag_seconds": drag_s, "drag_steps": args.drag_steps,
        "load_share_of_inversion": load_s / invert_s,
        "load_plus_drag_share_of_inversion": None if drag_s is None else (load_s + drag_s) / invert_s,
        "tuned_bytes": record["storage"]["tuned_bytes"],
        "full_generator_bytes": record["storage"]["full_generator_bytes"],
    }


def photo_crop(G: LatentGenerator, photo: Path, *, device: torch.device) -> torch.Tensor:
    """The photo's face aligned for G, as [1, 3, S, S] in [-1, 1] (a real target: PTI has work to do)."""
    import numpy as np

    from pipeline.align import align_photo
    from pipeline.common.images import read_photo

    template = G.model_info.get("landmark_template")
    aligned = align_photo(read_photo(photo).pixels, name=photo.name, output_size=G.img_resolution,
                          convention=G.model_info.get("crop_convention", "ffhq"),
                          template=None if template is None else np.asarray(template))
    return image_to_tensor(aligned.crop, device=device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_device_argument(parser)
    parser.add_argument("--backbone", default="lpips-vgg", choices=("lpips-vgg", "lpips-alex"))
    parser.add_argument("--steps", type=int, default=20, help="steps timed for the demo model")
    parser.add_argument("--ffhq-steps", type=int, default=3, help="steps timed for FFHQ-512 (0: skip)")
    parser.add_argument("--invert-steps", type=int, default=ProjectConfig().num_steps)
    parser.add_argument("--pti-steps", type=int, default=PTIConfig().num_steps)
    parser.add_argument("--drag-steps", type=int, default=20)
    parser.add_argument("--photo", type=Path, default=ROOT / "tests" / "data" / "photos" / "portrait_a.jpg",
                        help="photo whose aligned crop is the demo model's target")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    device = resolve_device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    from pipeline.gan.loading import load_generator

    out: dict = {"device": str(device), "backbone": args.backbone, "threads": torch.get_num_threads()}
    if device.type == "cuda":
        out["device_name"] = torch.cuda.get_device_name(device)

    demo = load_generator("demo-face-64", device=device)
    demo_target = photo_crop(demo, args.photo, device=device)
    out["demo-face-64"] = step_rates(demo, demo_target, steps=args.steps, backbone=args.backbone, device=device)
    print(f"demo-face-64  projection {out['demo-face-64']['project_steps_per_s']:.2f} steps/s, "
          f"PTI {out['demo-face-64']['pti_steps_per_s']:.2f} steps/s  ({device})", flush=True)

    if args.ffhq_steps > 0:
        from pipeline.gan.stylegan2 import StyleGAN2Config, StyleGAN2Generator

        torch.manual_seed(0)
        ffhq = StyleGAN2Generator(StyleGAN2Config()).to(device).eval().requires_grad_(False)
        with torch.no_grad():
            ffhq_target = ffhq.synthesis(ffhq.mapping(torch.randn(1, 512, device=device), 0.7)).clamp(-1, 1)
        rates = step_rates(ffhq, ffhq_target, steps=args.ffhq_steps, backbone=args.backbone, device=device)
        out["ffhq-512-random"] = rates
        print(f"ffhq-512 (random weights)  projection {rates['project_steps_per_s']:.3f} steps/s, "
              f"PTI {rates['pti_steps_per_s']:.3f} steps/s  ({device})", flush=True)
        del ffhq

    cost = redrag_cost(demo, demo_target, args=args, device=device)
    out["redrag"] = cost
    print(f"demo inversion ({cost['projection_steps']} projection + {cost['pti_steps']} PTI steps) "
          f"{cost['invert_seconds']:.1f} s; session load {cost['session_load_seconds']:.3f} s "
          f"= {100 * cost['load_share_of_inversion']:.2f}% of it", flush=True)
    if cost["drag_seconds"] is not None:
        share = 100 * cost["load_plus_drag_share_of_inversion"]
        print(f"re-drag = load + {cost['drag_steps']}-step drag {cost['drag_seconds']:.1f} s: "
              f"{share:.1f}% of the inversion (target < 10%): {'PASS' if share < 10 else 'FAIL'}")
    print(f"tuned weights stored: {cost['tuned_bytes'] / 2**20:.2f} MiB vs full generator "
          f"{cost['full_generator_bytes'] / 2**20:.2f} MiB")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
