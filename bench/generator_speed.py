#!/usr/bin/env python3
"""Time the generators, batch 1: forward, forward+backward to the drag feature block, to the full image.

Rows per model (median of --repeats runs after one warm-up):
- forward of the full image;
- forward+backward to ws, stopping after the drag's feature block (what a drag step costs);
- forward+backward to ws of the full image (a projection step, without its perceptual loss);
- forward+backward of the full image to ws and all synthesis weights (a PTI step, without its loss);
each in float32 and, where the device computes bf16 natively, under bf16 autocast (with the
PSNR of the bf16 image against the float32 one: the quality cost). Beside MobileStyleGAN, in the
same run, OpenVINO's own forward of the IR (f32, and its CPU default, which is bf16 on CPUs with
AMX/AVX512-BF16), when `openvino` is installed (the `tools` extra; never a run-time dependency).

    python -m bench.generator_speed [--device auto] [--threads N] [--repeats 5]
        [--models mobilestylegan-ffhq-1024 demo-face-64 stylegan2-ffhq-512-random]
"""
from __future__ import annotations

import argparse
import math

import torch

from bench.evaluation.script_args import add_device_argument
from bench.evaluation.timing import timed
from pipeline.common import resolve_device
from pipeline.common.precision import autocast_bf16, bf16_native
from pipeline.drag.drag_config import choose_feature_block
from pipeline.gan.interface import seeded_z
from pipeline.gan.loading import load_generator
from pipeline.gan.stylegan2 import StyleGAN2Config, StyleGAN2Generator

RANDOM_512 = "stylegan2-ffhq-512-random"
DEFAULT_MODELS = ("mobilestylegan-ffhq-1024", "demo-face-64", RANDOM_512)


def build(name: str, device: torch.device):
    if name == RANDOM_512:  # the FFHQ-512 architecture with random weights: timings only
        torch.manual_seed(0)
        return StyleGAN2Generator(StyleGAN2Config(img_resolution=512)).to(device).eval().requires_grad_(False)
    return load_generator(name, device=device)


def model_rows(G, device: torch.device, *, repeats: int, bf16: bool):
    ws0 = G.mapping(seeded_z(0, G.z_dim, device=device), truncation_psi=0.7)  # [1, num_ws, w_dim]
    block = choose_feature_block(G)
    weights = [p for p in G.parameters()]

    def forward():
        with torch.no_grad(), autocast_bf16(device, bf16):
            return G.synthesis(ws0)

    def to_block():
        ws = ws0.clone().requires_grad_(True)
        with autocast_bf16(device, bf16):
            out = G.synthesis_features(ws, block).float().square().mean()
        out.backward()

    def full(train: bool):
        def step():
            ws = ws0.clone().requires_grad_(True)
            for p in weights:
                p.requires_grad_(train)
            with autocast_bf16(device, bf16):
                out = G.synthesis(ws).float().square().mean()
            out.backward()
            for p in weights:
                p.grad = None
                p.requires_grad_(False)
        return step

    rows = [("forward", timed(forward, repeats=repeats, device=device)),
            (f"forward+backward to ws, stop after {block}", timed(to_block, repeats=repeats, device=device)),
            ("forward+backward to ws, full image", timed(full(False), repeats=repeats, device=device)),
            ("forward+backward to ws + all weights", timed(full(True), repeats=repeats, device=device))]
    return rows, forward


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.float().clamp(-1, 1) - b.float().clamp(-1, 1)).square().mean().item()
    return float("inf") if mse == 0 else 10 * math.log10(4.0 / mse)


def openvino_rows(threads: int, repeats: int) -> list[tuple[str, float]]:
    """OpenVINO's forward of the random-face IR (f32, and its default precision), or [] without openvino."""
    try:
        import numpy as np
        import openvino as ov
    except ImportError:
        print("(openvino not installed: pip install -e '.[tools]' for its rows)")
        return []
    from pipeline.gan.mobilestylegan.ir_conversion import package_ir_folder

    core = ov.Core()
    model = core.read_model(str(package_ir_folder() / "SynthesisNetwork.xml"))
    style = np.random.RandomState(0).randn(1, 512).astype(np.float32)
    rows = []
    for label, hint in (("f32", {"INFERENCE_PRECISION_HINT": "f32"}), ("its CPU default", {})):
        compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": threads, **hint})
        request = compiled.create_infer_request()
        seconds = timed(lambda: request.infer({0: style}), repeats=repeats, device=torch.device("cpu"))
        rows.append((f"OpenVINO {ov.__version__.split('-')[0]} forward, {label}", seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_device_argument(parser)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    args = parser.parse_args()

    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    precisions = [False] + ([True] if bf16_native(device) else [])
    print(f"generator speed, batch 1, {where}, torch {torch.__version__}; median of {args.repeats} runs after one warm-up")
    for name in args.models:
        G = build(name, device)
        print(f"\n{name} ({G.img_resolution} px, {G.num_ws} ws)")
        reference = None
        for bf16 in precisions:
            rows, forward = model_rows(G, device, repeats=args.repeats, bf16=bf16)
            label = "bf16 autocast" if bf16 else "float32"
            image = forward()
            reference = image if reference is None else reference
            quality = "" if not bf16 else f"   (bf16 image vs float32: PSNR {psnr(image, reference):.1f} dB)"
            print(f"  {label}{quality}")
            for what, sec in rows:
                print(f"    {what:48s} {sec * 1000:9.1f} ms")
        if name == "mobilestylegan-ffhq-1024" and device.type == "cpu":
            for what, sec in openvino_rows(torch.get_num_threads(), args.repeats):
                print(f"    {what:48s} {sec * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
