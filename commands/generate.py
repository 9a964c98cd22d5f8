"""`cli.py generate`: DragGAN's start image, z from a seed, truncated, with constant noise."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from pipeline.common import UserError, resolve_device, write_json_atomic
from pipeline.common.image_tensors import tensor_to_image
from pipeline.common.images import save_image
from pipeline.gan.interface import NOISE_MODES, seeded_z
from pipeline.gan.loading import load_generator, resolve_model_arg


def register(subparsers) -> None:
    p = subparsers.add_parser("generate", help="render the generator's image for a seed")
    p.add_argument("--model", default=None, help="checkpoint file or registry name (default: mobilestylegan-ffhq-1024, non-commercial weights)")
    p.add_argument("--seed", type=int, required=True, help="latent seed (numpy RandomState, as DragGAN)")
    p.add_argument("--psi", type=float, default=0.7, help="truncation psi (1 = none)")
    p.add_argument("--noise-mode", choices=NOISE_MODES, default="const", help="per-layer noise")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("-o", "--output", type=Path, required=True, help="image to write (.png, .jpg, ...)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out: Path = args.output
    if not 0 <= args.seed < 2**32:
        raise UserError(f"--seed must be in [0, 2^32), got {args.seed}")
    device = resolve_device(args.device)
    start = time.perf_counter()
    G = load_generator(resolve_model_arg(args.model), device=device)
    with torch.no_grad():
        z = seeded_z(args.seed, G.z_dim, device=device)  # [1, z_dim]
        ws = G.mapping(z, truncation_psi=args.psi)  # [1, num_ws, w_dim]
        img = G.synthesis(ws, noise_mode=args.noise_mode)  # [1, C, H, W], about [-1, 1]
    pixels = tensor_to_image(img)
    save_image(out, pixels, protect=[G.model_info.get("path")])
    info = {k: v for k, v in G.model_info.items() if k != "landmark_template"}
    write_json_atomic(out.with_name(out.name + ".json"), {
        "command": "generate", "model": info, "seed": args.seed, "psi": args.psi,
        "noise_mode": args.noise_mode, "device": str(device), "output": str(out),
        "seconds": round(time.perf_counter() - start, 3),
    })
    print(f"wrote {out} ({G.img_resolution} px, seed {args.seed}, psi {args.psi})")
    return 0
