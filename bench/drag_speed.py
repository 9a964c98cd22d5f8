#!/usr/bin/env python3
"""Drag step time: ours vs a step computed the official way, side by side in one run.

Model: the FFHQ-512 StyleGAN2 architecture (channel base 32768, max 512, 16 ws) with random
weights; features from the 128x128 block as the official code. Scenarios: 1 and 5 handles,
with and without a mask. For each, rounds alternate our steps (`pipeline.drag.drag`, its own
steps timed between its per-iteration callbacks: losses, backward, Adam, forward to the feature
block, tracking) with reference
steps (`bench/drag_reference.py`: full synthesis, whole map upsampled to 512, grid_sample,
tracking on the upsampled map). The first step of each run is a warm-up and is not counted;
the figure is the median over the rest. Targets are far, so no run converges early.

    python -m bench.drag_speed [--device cpu|cuda] [--steps 3] [--rounds 2] [--threads N] [--clock wall|cpu]

Target (issue 3): our step <= 0.5x the reference step.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import torch

from bench.drag_reference import ReferenceDrag

from bench.evaluation.script_args import add_device_argument
from pipeline.common import resolve_device
from pipeline.drag import DragConfig, drag
from pipeline.gan import seeded_z
from pipeline.gan.stylegan2 import StyleGAN2Config, StyleGAN2Generator

SIZE = 512
TARGET_RATIO = 0.5
ONE = ([(200.0, 260.0)], [(300.0, 260.0)])
FIVE = (
    [(200.0, 260.0), (320.0, 200.0), (256.0, 330.0), (150.0, 180.0), (360.0, 340.0)],
    [(300.0, 260.0), (380.0, 150.0), (256.0, 420.0), (100.0, 120.0), (420.0, 420.0)],
)


def make_mask() -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), dtype=np.float32)
    mask[80:470, 70:460] = 1  # flexible box around every handle and target; the rest is kept
    return mask


def time_ours(G, ws, handles, targets, mask, steps: int, device, clock) -> list[float]:
    # The callback runs once per iteration, after tracking: consecutive calls bracket one whole
    # step (loss, backward, Adam update, next forward to the feature block, tracking).
    stamps = []

    def stamp(step, state):
        _sync(device)
        stamps.append(clock())

    drag(G, ws, handles, targets, mask=mask, config=DragConfig(max_steps=steps + 1), device=device, callback=stamp)
    return [b - a for a, b in zip(stamps[1:], stamps[2:])]  # the first step is the warm-up


def time_reference(G, ws, handles, targets, mask, steps: int, device, clock) -> list[float]:
    ref = ReferenceDrag(G, ws, handles, targets, mask=mask, config=DragConfig())
    out = []
    try:
        for i in range(steps + 1):
            _sync(device)
            t0 = clock()
            ref.step()
            _sync(device)
            if i > 0:
                out.append(clock() - t0)
    finally:
        ref.close()
    return out


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_device_argument(ap)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per run (after one warm-up)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating ours/reference rounds per scenario")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    ap.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall",
        help="wall: elapsed time; cpu: this process's CPU time (robust when other jobs share the cores; "
        "use with --threads 1 on CPU)",
    )
    args = ap.parse_args()
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)

    torch.manual_seed(0)
    cfg = StyleGAN2Config(img_resolution=SIZE, channel_base=32768, channel_max=512)
    G = StyleGAN2Generator(cfg).to(device).eval().requires_grad_(False)
    with torch.no_grad():
        ws = G.mapping(seeded_z(0, G.z_dim, device=device), truncation_psi=0.7)
    mask = make_mask()
    scenarios = [
        ("1 handle", *ONE, None), ("5 handles", *FIVE, None),
        ("1 handle + mask", *ONE, mask), ("5 handles + mask", *FIVE, mask),
    ]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu, {torch.get_num_threads()} threads"
    print(f"drag step, FFHQ-512 architecture (random weights, {G.num_ws} ws), features b128; "
          f"torch {torch.__version__} on {name}")
    print(f"{args.rounds} rounds x {args.steps} timed steps each side; median {args.clock}-clock seconds per step\n")
    header = f"{'scenario':18s} {'ours s/step':>12s} {'ref s/step':>11s} {'ratio':>6s} {'ours steps/s':>13s} {'ref steps/s':>12s}"
    print(header)
    print("-" * len(header))
    ratios = []
    for label, handles, targets, m in scenarios:
        ours, ref = [], []
        for _ in range(args.rounds):
            ours += time_ours(G, ws, handles, targets, m, args.steps, device, clock)
            ref += time_reference(G, ws, handles, targets, m, args.steps, device, clock)
        o, r = statistics.median(ours), statistics.median(ref)
        ratios.append(o / r)
        print(f"{label:18s} {o:12.3f} {r:11.3f} {o / r:6.2f} {1 / o:13.2f} {1 / r:12.2f}", flush=True)
    worst = max(ratios)
    verdict = "met" if worst <= TARGET_RATIO else "NOT met"
    print(f"\ntarget ours <= {TARGET_RATIO}x reference: {verdict} (worst ratio {worst:.2f}, best {min(ratios):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
