"""Map (x, y) points between the photo and the crop (user handles, landmarks, tracked points)."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from .geometry import apply_affine


class HasCropTransform(Protocol):
    crop_from_photo: np.ndarray  # [2, 3] photo (x, y) -> crop (x, y)
    photo_from_crop: np.ndarray  # [2, 3] crop (x, y) -> photo (x, y)


def photo_to_crop(points: np.ndarray, aligned: HasCropTransform) -> np.ndarray:
    """Photo pixel (x, y) points [..., 2] -> crop pixel (x, y) points [..., 2] (float64)."""
    return apply_affine(aligned.crop_from_photo, _points(points))


def crop_to_photo(points: np.ndarray, aligned: HasCropTransform) -> np.ndarray:
    """Crop pixel (x, y) points [..., 2] -> photo pixel (x, y) points [..., 2] (float64)."""
    return apply_affine(aligned.photo_from_crop, _points(points))


def _points(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape[-1:] != (2,):
        raise ValueError(f"points must be (x, y) pairs [..., 2], got shape {pts.shape}")
    return pts
