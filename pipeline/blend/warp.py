"""Carry crop-space images and maps back into the photo (pixel-index coordinates throughout)."""
from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

from .blend_types import CropGeometry

Roi = tuple[int, int, int, int]  # (x0, y0, x1, y1), photo px, x1/y1 exclusive


def crop_scale(geometry: CropGeometry) -> float:
    """Crop px per photo px (> 1: the crop is finer than the photo there)."""
    return float(math.sqrt(abs(np.linalg.det(geometry.crop_from_photo[:, :2]))))


def roi_of(crop_map: np.ndarray, geometry: CropGeometry, margin: int = 2) -> Roi | None:
    """Photo box covering every non-zero pixel of the crop-space map [S, S]; None if all zero."""
    ys, xs = np.nonzero(crop_map)
    if len(xs) == 0:
        return None
    corners = np.array([[xs.min() - 1, ys.min() - 1], [xs.min() - 1, ys.max() + 1],
                        [xs.max() + 1, ys.min() - 1], [xs.max() + 1, ys.max() + 1]], dtype=np.float64)
    pts = corners @ geometry.photo_from_crop[:, :2].T + geometry.photo_from_crop[:, 2]
    width, height = geometry.photo_size
    x0 = max(int(math.floor(pts[:, 0].min())) - margin, 0)
    y0 = max(int(math.floor(pts[:, 1].min())) - margin, 0)
    x1 = min(int(math.ceil(pts[:, 0].max())) + margin + 1, width)
    y1 = min(int(math.ceil(pts[:, 1].max())) + margin + 1, height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def roi_from_crop_matrix(geometry: CropGeometry, roi: Roi, grid_scale: float = 1.0) -> np.ndarray:
    """2x3 affine: roi pixel (x, y) -> pixel of a crop-space grid `grid_scale` times finer than the crop."""
    x0, y0 = roi[0], roi[1]
    m = geometry.crop_from_photo.copy()
    m[:, 2] = m[:, 2] + m[:, :2] @ np.array([x0, y0], dtype=np.float64)
    # Crop pixel c sits at grid pixel (c + 0.5) * k - 0.5 (same outer edges).
    out = m * grid_scale
    out[:, 2] += 0.5 * grid_scale - 0.5
    return out


def crop_to_roi(
    crop_map: np.ndarray, geometry: CropGeometry, roi: Roi, *, interpolation: int = cv2.INTER_LINEAR,
    grid_scale: float = 1.0, border_value: float = 0.0,
) -> np.ndarray:
    """Resample a crop-space array [S*k, S*k(, C)] onto the photo's roi (inverse warp)."""
    x0, y0, x1, y1 = roi
    m = roi_from_crop_matrix(geometry, roi, grid_scale)
    return cv2.warpAffine(crop_map, m, (x1 - x0, y1 - y0), flags=interpolation | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=border_value)


def image_to_roi(crop: np.ndarray, geometry: CropGeometry, roi: Roi) -> np.ndarray:
    """The crop [S, S, 3] (uint8, or float 0..255) as photo pixels over roi, [h, w, 3] uint8.

    When the crop is finer than the photo there, it is first reduced with Lanczos to about
    the photo's pixel size (bilinear sampling alone would alias; a Gaussian would blur more),
    then placed with a bicubic warp.
    """
    scale = crop_scale(geometry)
    src = crop
    grid_scale = 1.0
    if scale > 1.05:
        side = max(int(round(crop.shape[0] / scale)), 1)
        src = np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(crop[:, :, c], dtype=np.float32)).resize(
            (side, side), Image.LANCZOS)) for c in range(crop.shape[2])], axis=2)
        grid_scale = side / crop.shape[0]
    if src.dtype != np.uint8:
        src = np.clip(np.rint(src), 0, 255).astype(np.uint8)
    x0, y0, x1, y1 = roi
    m = roi_from_crop_matrix(geometry, roi, grid_scale)
    return cv2.warpAffine(src, m, (x1 - x0, y1 - y0), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
