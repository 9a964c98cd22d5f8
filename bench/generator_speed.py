#!/usr/bin/env python3
"""Time the StyleGAN2 generator in the FFHQ-512 architecture (random weights), batch 1.

Prints a table: full synthesis forward; forward+backward to ws; forward (and forward+backward)
stopping after the 128x128 block; each with its ratio to the full forward.

    python bench/generator_speed.py [--device auto] [--repeats 5] [--resolution 512]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.common import resolve_device  # noqa: E402
from pipeline.gan.stylegan2 import StyleGAN2Config, StyleGAN2Generator  # noqa: E402


def timed(fn, *, repeats: int, device: torch.device) -> float:
    """Median seconds of fn() over `repeats` runs, after one warm-up."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--block", default="b128", help="feature block to stop after")
    args = parser.parse_args()

    device = resolve_device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    cfg = StyleGAN2Config(img_resolution=args.resolution, channel_base=32768, channel_max=512)
    G = StyleGAN2Generator(cfg).to(device).eval().requires_grad_(False)
    ws0 = G.mapping(torch.randn(1, cfg.z_dim, device=device), truncation_psi=0.7)  # [1, num_ws, 512]

    def forward():
        with torch.no_grad():
            G.synthesis(ws0)

    def forward_backward():
        ws = ws0.clone().requires_grad_(True)
        G.synthesis(ws).square().mean().backward()

    def stop_forward():
        with torch.no_grad():
            G.synthesis_features(ws0, args.block)

    def stop_forward_backward():
        ws = ws0.clone().requires_grad_(True)
        G.synthesis_features(ws, args.block).square().mean().backward()

    rows = [
        ("full synthesis, forward", forward),
        ("full synthesis, forward+backward to ws", forward_backward),
        (f"stop after {args.block}, forward", stop_forward),
        (f"stop after {args.block}, forward+backward to ws", stop_forward_backward),
    ]
    results = [(name, timed(fn, repeats=args.repeats, device=device)) for name, fn in rows]
    base = results[0][1]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{device.type}, {torch.get_num_threads()} threads"
    print(f"StyleGAN2 {args.resolution}px (channel_base 32768, max 512, {cfg.num_ws} ws), batch 1, float32, {name}")
    print(f"torch {torch.__version__}; median of {args.repeats} runs after one warm-up")
    print(f"{'what':48s} {'seconds':>9s} {'x forward':>10s}")
    for what, sec in results:
        print(f"{what:48s} {sec:9.3f} {sec / base:10.2f}")


if __name__ == "__main__":
    main()
