#!/usr/bin/env python3
"""LPIPS v0.1 distances of LPIPS's own example images, to compare with the published ones.

Reads ex_ref.png, ex_p0.png, ex_p1.png from DIR (the 64x64 images of richzhang/PerceptualSimilarity,
`imgs/`; a copy is in tests/data/lpips-examples) and prints one line per net: the distances
ref-p0 and ref-p1, 3 decimals. Published (fixture README): `vgg 0.569 0.422`, `alex 0.722 0.138`.
Images are scaled to [-1, 1] and compared at 64x64 as they are (no resize), as lpips' test script.

    python -m bench.lpips_examples DIR [--device cpu] [--digits 3]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench.evaluation.script_args import add_device_argument
from pipeline.common import resolve_device
from pipeline.invert import image_to_tensor, load_perceptual

NETS = {"vgg": "lpips-vgg", "alex": "lpips-alex"}  # printed name (lpips' net) -> our backbone
EXAMPLES = ("ex_ref.png", "ex_p0.png", "ex_p1.png")


def read_examples(folder: Path, *, device: torch.device | str = "cpu") -> list[torch.Tensor]:
    """ref, p0, p1 as [1, 3, H, W] in [-1, 1] (plain 8-bit RGB decode, as lpips.load_image)."""
    out = []
    for name in EXAMPLES:
        with Image.open(folder / name) as img:
            out.append(image_to_tensor(np.asarray(img.convert("RGB")), device=device))
    return out


def example_distances(folder: Path, *, device: torch.device) -> dict[str, tuple[float, float]]:
    """{'vgg': (ref-p0, ref-p1), 'alex': (...)} in float32."""
    ref, p0, p1 = read_examples(folder, device=device)
    out = {}
    for net, backbone in NETS.items():
        d = load_perceptual(backbone, device=device)
        with torch.no_grad():
            out[net] = (d(ref, p0).item(), d(ref, p1).item())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="folder holding ex_ref.png, ex_p0.png, ex_p1.png")
    add_device_argument(parser)
    parser.add_argument("--digits", type=int, default=3)
    args = parser.parse_args()

    missing = [name for name in EXAMPLES if not (args.dir / name).is_file()]
    if missing:
        parser.error(f"{args.dir} lacks {', '.join(missing)}")
    device = resolve_device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    for net, (d0, d1) in example_distances(args.dir, device=device).items():
        print(f"{net} {d0:.{args.digits}f} {d1:.{args.digits}f}")


if __name__ == "__main__":
    main()
