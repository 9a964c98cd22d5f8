"""The one rule for mask images (DragGAN's flexible region), for every command and the web editor.

White (>= 128 of 255 in grey) = may change, black = keep. Anti-aliased brush edges and JPEG
ringing are fine; an image that is mostly mid-grey is not a mask and is refused, since any
threshold would guess what its author meant.
"""
from __future__ import annotations

import os

import numpy as np

from .errors import UserError

WHITE_FROM = 128            # grey level (of 255) from which a pixel may change
MID_GREY = (32, 224)        # levels strictly between these count as neither black nor white
MAX_MID_GREY_SHARE = 0.05   # more mid-grey pixels than this and the image is not a mask


def mask_from_pixels(pixels: np.ndarray, *, name: str = "mask") -> np.ndarray:
    """[H, W] or [H, W, 3] uint8 (or 0/1 floats) -> [H, W] float32 of 0/1, 1 = may change."""
    grey = np.asarray(pixels)
    if grey.ndim == 3:
        grey = grey.astype(np.float32).mean(axis=2)
    grey = grey.astype(np.float32)
    if grey.ndim != 2 or grey.size == 0:
        raise UserError(f"{name}: a mask is one 2-D image, got shape {list(np.shape(pixels))}")
    if grey.max() <= 1.0:  # already 0/1 (or 0..1 floats)
        grey = grey * 255.0
    mid = ((grey > MID_GREY[0]) & (grey < MID_GREY[1])).mean()
    if mid > MAX_MID_GREY_SHARE:
        raise UserError(f"{name} is not binary: {100 * mid:.0f}% of its pixels are grey; paint it black (keep) "
                        "and white (may change) only")
    return (grey >= WHITE_FROM).astype(np.float32)


def read_mask_image(path: str | os.PathLike) -> np.ndarray:
    """The mask image at `path` (EXIF-upright, as the photo it was painted on) -> [H, W] float32 of 0/1."""
    from .images import read_photo

    return mask_from_pixels(read_photo(path).pixels, name=f"mask {os.fspath(path)}")
