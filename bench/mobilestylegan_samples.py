#!/usr/bin/env python3
"""Samples of the default model: does the product's face detection find a face on each, and a contact sheet.

Seeds 0..N-1 (default 200) at truncation psi (default 0.7), z from RandomState(seed) as
`cli.py generate`; each 1024 px sample goes through the same detection a photo does
(pipeline.align.find_faces: dlib's frontal detector and 68 landmarks). Prints the share of
samples with a face (target >= 0.95) and the mean face box width; writes the contact sheet of
seeds 0-63 (8 x 8, 128 px each, JPEG) for the model card.

    python -m bench.mobilestylegan_samples [--seeds 200] [--psi 0.7] [--sheet checkpoints/mobilestylegan-ffhq-1024-contact-sheet.jpg]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]

from bench.evaluation.script_args import add_device_argument
from pipeline.align import find_faces
from pipeline.common import resolve_device, write_atomic
from pipeline.gan.interface import seeded_z
from pipeline.gan.loading import load_generator

TARGET_DETECTION = 0.95
SHEET_GRID, SHEET_TILE = 8, 128


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="mobilestylegan-ffhq-1024")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--psi", type=float, default=0.7)
    add_device_argument(parser)
    parser.add_argument("--sheet", type=Path, default=ROOT / "checkpoints" / "mobilestylegan-ffhq-1024-contact-sheet.jpg")
    args = parser.parse_args()
    device = resolve_device(args.device)
    G = load_generator(args.model, device=device)

    found, widths, tiles = 0, [], []
    for seed in tqdm(range(args.seeds), desc="samples", unit="img"):
        with torch.no_grad():
            img = G(seeded_z(seed, G.z_dim, device=device), truncation_psi=args.psi)  # [1, 3, S, S]
        pixels = ((img[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        faces, _ = find_faces(pixels)
        if faces:
            found += 1
            widths.append(max(f.box[2] - f.box[0] for f in faces) / pixels.shape[1])
        if seed < SHEET_GRID * SHEET_GRID:
            tiles.append(Image.fromarray(pixels).resize((SHEET_TILE, SHEET_TILE), Image.LANCZOS))

    share = found / args.seeds
    verdict = "PASS" if share >= TARGET_DETECTION else "FAIL"
    print(f"{args.model}, seeds 0-{args.seeds - 1}, psi {args.psi}: a face found in {found}/{args.seeds} "
          f"= {share:.3f} (target >= {TARGET_DETECTION}) {verdict}; mean face box width {np.mean(widths):.2f} of the side")
    if tiles:
        sheet = Image.new("RGB", (SHEET_GRID * SHEET_TILE,) * 2)
        for i, tile in enumerate(tiles):
            sheet.paste(tile, ((i % SHEET_GRID) * SHEET_TILE, (i // SHEET_GRID) * SHEET_TILE))
        write_atomic(args.sheet, lambda tmp: sheet.save(tmp, quality=88))
        print(f"contact sheet of seeds 0-{len(tiles) - 1}: {args.sheet}")
    return 0 if share >= TARGET_DETECTION else 1


if __name__ == "__main__":
    sys.exit(main())
