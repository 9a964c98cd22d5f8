"""The face-region mask in crop space: landmark hulls, dilated, feathered, padding fill cut out."""
from __future__ import annotations

import math

import cv2
import numpy as np

from .blend_types import BlendConfig, CropGeometry


def face_mask(
    geometry: CropGeometry, edited_landmarks: np.ndarray | None = None, *, config: BlendConfig = BlendConfig()
) -> np.ndarray:
    """Soft mask [S, S] float32 in [0, 1] over the convex hull of the original landmarks and,
    when given, the edited face's landmarks [68, 2] (crop px): an opened mouth or a turned head
    reaches past the original outline."""
    size = int(geometry.output_size)
    pts = np.asarray(geometry.crop_landmarks, dtype=np.float64)
    if edited_landmarks is not None:
        pts = np.concatenate([pts, np.asarray(edited_landmarks, dtype=np.float64).reshape(-1, 2)])
    return hull_mask(pts, size, config=config) * (1.0 - np.clip(geometry.fill_mask, 0.0, 1.0))


def hull_mask(points: np.ndarray, size: int, *, config: BlendConfig = BlendConfig()) -> np.ndarray:
    """Feathered, dilated convex hull of (x, y) points on an [size, size] grid (float32 0..1)."""
    # 1. Hull, drawn at 1/16 px precision.
    hull = cv2.convexHull(np.round(points * 16).astype(np.int32))
    inside = np.zeros((size, size), np.uint8)
    cv2.fillConvexPoly(inside, hull, 1, cv2.LINE_8, 4)

    # 2. Dilate by a Euclidean distance, not a square kernel: the outline stays face-shaped.
    dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    grown = (dist <= config.mask_dilate * size).astype(np.float32)

    # 3. Feather; the kernel is cut at 3 sigma so the mask is exactly 0 beyond it.
    sigma = max(config.mask_feather * size, 0.5)
    k = 2 * int(math.ceil(3 * sigma)) + 1
    soft = cv2.GaussianBlur(grown, (k, k), sigma, borderType=cv2.BORDER_CONSTANT)

    # 4. Fade at the crop's own edge: beyond it the crop has nothing to give. The ramp is 0 on the
    # outermost pixels, so the crop's rectangle cannot show in the photo even where a small crop's
    # pixel spans several photo pixels (a half-pixel offset left 0.12 of the edit on that line).
    band = max(config.crop_edge_fade * size, 1.0)
    ramp = np.clip(np.minimum(np.arange(size), np.arange(size)[::-1]) / band, 0.0, 1.0).astype(np.float32)
    soft *= ramp[:, None] * ramp[None, :]
    return soft.astype(np.float32)
