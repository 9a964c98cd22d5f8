"""Which perceptual backbone an inversion uses when the user says 'auto' (the default).

LPIPS-VGG when torchvision's ImageNet VGG16 weights are already on this machine (published
distances, the projector's reference loss); otherwise the offline hed-vgg16 backbone, so that
the default edit works on a fresh machine with nothing downloaded. Never downloads anything.
"""
from __future__ import annotations

import functools
import logging

from pipeline.common import UserError
from .config import BACKBONES
from .hed_vgg import hed_weights_path
from .perceptual import VGG16_URL, torchvision_vgg16_path

logger = logging.getLogger(__name__)

AUTO = "auto"
CHOICES = (AUTO, "lpips-vgg", "hed-vgg16")  # random-vgg is for plumbing tests, not offered to users


def resolve_backbone(name: str = AUTO) -> str:
    """'auto' -> 'lpips-vgg' or 'hed-vgg16' (logged once); any other name is checked and returned."""
    if name != AUTO:
        if name not in BACKBONES:
            raise UserError(f"unknown perceptual backbone '{name}': use {', '.join(CHOICES)}")
        return name
    return _auto_backbone()


@functools.lru_cache(maxsize=1)  # one answer (and one log line) per process
def _auto_backbone() -> str:
    vgg16 = torchvision_vgg16_path()
    if vgg16.is_file():
        return "lpips-vgg"
    try:
        hed_weights_path()
    except UserError as exc:
        raise UserError(f"no perceptual backbone is available offline: put {VGG16_URL} into {vgg16.parent}/ "
                        f"for LPIPS-VGG, or install the offline one ({exc})") from None
    logger.info("perceptual backbone: hed-vgg16 (offline; LPIPS-VGG's %s is not in %s)", vgg16.name, vgg16.parent)
    return "hed-vgg16"
