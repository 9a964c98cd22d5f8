#!/usr/bin/env python3
"""Quality of the shipped demo face generator against its teacher (gan-face-generate's DCGAN).

For each model and truncation psi, on seeds 0..N-1 (default 200):
  detection  share of samples where dlib finds a face (protocol of bench/sample_faces.py:
             4x bicubic upscale, frontal detector with one upsampling)
  diversity  mean pairwise L1 distance between samples (pixels in [0, 1], all pairs)
  sharpness  mean over samples of the variance of the Laplacian (grey, 0..255, 3x3 kernel)
Targets (issue 4, at psi 0.7): detection >= 0.61, diversity >= 0.8 x teacher,
sharpness >= 0.7 x teacher. Also writes the model card's contact sheet: seeds 0-63 at psi 0.7,
8x8 grid, a 256-colour palette PNG (small enough for the repository).

The teacher row needs the tools-only package gan-face-generate; without it only the shipped
model is measured.

    python -m bench.demo_generator_quality [--model checkpoints/demo-face-64.safetensors]
        [--seeds 200] [--psi 0.7 1.0] [--sheet checkpoints/demo-face-64-contact-sheet.png] [--json PATH]
"""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

from bench.evaluation.script_args import add_device_argument
from pipeline.common import resolve_device, write_atomic, write_json_atomic
from pipeline.gan.loading import load_generator
from bench.evaluation.sample_faces import find_faces, render_samples

TARGET_DETECTION = 0.61
TARGET_DIVERSITY_RATIO = 0.8
TARGET_SHARPNESS_RATIO = 0.7
SHEET_SEEDS = 64
SHEET_PSI = 0.7


def load_teacher(device: torch.device):
    """gan-face-generate's own Generator with its own weights, in eval mode; None if not installed."""
    spec = importlib.util.find_spec("gan_face_generate")
    if spec is None:
        return None
    from gan_face_generate.models import Generator

    weights = Path(list(spec.submodule_search_locations)[0]) / "weights.tar"
    T = Generator(1, 3, 100, 64)
    T.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True)["netG_state_dict"])
    return T.to(device).eval().requires_grad_(False)


def diversity(images: np.ndarray) -> float:
    """Mean L1 distance per pixel over all pairs of uint8 [N, H, W, 3] images, pixels in [0, 1]."""
    flat = torch.from_numpy(images.reshape(len(images), -1)).double() / 255.0
    dist = torch.cdist(flat, flat, p=1) / flat.shape[1]  # [N, N]
    n = len(images)
    return float(dist.sum() / (n * (n - 1)))


def sharpness(images: np.ndarray) -> float:
    grey = [cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in images]
    return float(np.mean([cv2.Laplacian(g, cv2.CV_64F).var() for g in grey]))


def contact_sheet(images: np.ndarray, columns: int = 8) -> Image.Image:
    n, h, w, c = images.shape
    rows = n // columns
    grid = images[: rows * columns].reshape(rows, columns, h, w, c).transpose(0, 2, 1, 3, 4)
    sheet = Image.fromarray(np.ascontiguousarray(grid.reshape(rows * h, columns * w, c)))
    # Median-cut palette without dithering: a third of the size of the RGB PNG, faces unchanged to the eye.
    return sheet.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "checkpoints" / "demo-face-64.safetensors")
    parser.add_argument("--seeds", type=int, default=200, help="seeds 0..N-1")
    parser.add_argument("--psi", type=float, nargs="+", default=[0.7, 1.0], help="truncations to measure")
    parser.add_argument("--sheet", type=Path, default=ROOT / "checkpoints" / "demo-face-64-contact-sheet.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    add_device_argument(parser)
    args = parser.parse_args()
    device = resolve_device(args.device)
    seeds = range(args.seeds)

    G = load_generator(args.model, device=device)
    generators = {"shipped": lambda z, psi: G(z, truncation_psi=psi)}
    T = load_teacher(device)
    if T is not None:
        generators["teacher"] = lambda z, psi: T((psi * z)[:, :, None, None])
    else:
        print("gan-face-generate is not installed: measuring the shipped model only")

    # 1. Figures per model and truncation.
    results = []
    for psi in args.psi:
        for name, generate in generators.items():
            images = render_samples(lambda z: generate(z, psi), seeds, z_dim=G.z_dim, device=device)
            faces = find_faces(images, landmarks=False, progress=False)
            results.append({
                "model": name,
                "psi": psi,
                "seeds": f"0-{args.seeds - 1}",
                "detection": sum(f is not None for f in faces) / len(faces),
                "diversity": diversity(images),
                "sharpness": sharpness(images),
            })
    print(f"{'model':8s} {'psi':>4s} {'detection':>9s} {'diversity':>9s} {'sharpness':>9s}")
    for r in results:
        print(f"{r['model']:8s} {r['psi']:4.2f} {r['detection']:9.3f} {r['diversity']:9.4f} {r['sharpness']:9.1f}")

    # 2. Targets, at each psi, against the teacher at the same psi.
    for psi in args.psi:
        ours = next(r for r in results if r["model"] == "shipped" and r["psi"] == psi)
        line = f"targets at psi {psi}: detection {ours['detection']:.3f} >= {TARGET_DETECTION}: " + (
            "PASS" if ours["detection"] >= TARGET_DETECTION else "FAIL"
        )
        teacher = next((r for r in results if r["model"] == "teacher" and r["psi"] == psi), None)
        if teacher is not None:
            div = ours["diversity"] / teacher["diversity"]
            sharp = ours["sharpness"] / teacher["sharpness"]
            line += f"; diversity {div:.3f} x teacher (>= {TARGET_DIVERSITY_RATIO}): " + (
                "PASS" if div >= TARGET_DIVERSITY_RATIO else "FAIL"
            )
            line += f"; sharpness {sharp:.3f} x teacher (>= {TARGET_SHARPNESS_RATIO}): " + (
                "PASS" if sharp >= TARGET_SHARPNESS_RATIO else "FAIL"
            )
        print(line)

    # 3. Contact sheet of the shipped model.
    images = render_samples(
        lambda z: G(z, truncation_psi=SHEET_PSI), range(SHEET_SEEDS), z_dim=G.z_dim, device=device
    )
    sheet = contact_sheet(images)
    write_atomic(args.sheet, lambda tmp: sheet.save(tmp, format="PNG", optimize=True))
    print(f"contact sheet: {args.sheet} (seeds 0-{SHEET_SEEDS - 1}, psi {SHEET_PSI}, {args.sheet.stat().st_size // 1024} KiB)")
    if args.json is not None:
        write_json_atomic(args.json, {"model_file": str(args.model), "results": results})


if __name__ == "__main__":
    main()
