"""The user's flexible region as the drag and the paste-back each need it (crop px, [S, S] float32)."""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.align import AlignedFace

from .edit_config import EditConfig


def grown_mask(mask: np.ndarray, grow_px: float) -> np.ndarray:
    """[S, S] float32 0/1: the pixels within grow_px of the mask."""
    return (cv2.distanceTransform((mask < 0.5).astype(np.uint8), cv2.DIST_L2, 5) <= grow_px).astype(np.float32)


def drag_mask(mask: np.ndarray, aligned: AlignedFace, config: EditConfig) -> np.ndarray:
    """The flexible region the drag may change: the user's mask grown a little.

    A handle on the mask's edge (a jaw point on a jaw polygon) must be able to move, and what
    lies just outside the contour it moves has to change too (background fills in where the
    jaw was): with the polygon itself, measured on examples/grace_hopper.jpg, the handles did
    not move at all in 150 steps.
    """
    return grown_mask(mask, config.drag_mask_grow * aligned.crop_inter_ocular_px)


def paste_mask(mask: np.ndarray, aligned: AlignedFace, config: EditConfig) -> np.ndarray:
    """The user's flexible region, grown and feathered: paste-back changes nothing outside it."""
    iod = aligned.crop_inter_ocular_px
    grown = grown_mask(mask, config.paste_mask_grow * iod)
    sigma = max(config.paste_mask_feather * iod, 0.5)
    k = 2 * int(np.ceil(3 * sigma)) + 1
    return np.clip(cv2.GaussianBlur(grown, (k, k), sigma, borderType=cv2.BORDER_CONSTANT), 0.0, 1.0)
