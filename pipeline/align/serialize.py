"""AlignedFace <-> JSON: the crop transform travels as JSON; the crop is re-sampled from the photo."""
from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.common import UserError

from .geometry import apply_affine, crop_from_quad, invert_affine
from .sample import sample_quad
from .align_types import CONVENTIONS, AlignConfig, AlignedFace

FORMAT = "portrait-drag/aligned-face"
VERSION = 1
PIXEL_CONVENTION = ("(x, y) pixel-index coordinates: pixel (i, j) has its centre at (i, j); "
                    "quad = the crop's outer corners TL, BL, BR, TR in photo px")


def aligned_to_json(aligned: AlignedFace) -> dict[str, Any]:
    """The transform and landmarks of `aligned` as plain JSON types (no pixels)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "pixel_convention": PIXEL_CONVENTION,
        "convention": aligned.convention,
        "output_size": aligned.output_size,
        "photo_size": list(aligned.photo_size),
        "face_index": aligned.face_index,
        "face_box": None if aligned.face_box is None else list(aligned.face_box),
        "quad": aligned.quad.tolist(),
        "crop_from_photo": aligned.crop_from_photo.tolist(),
        "photo_from_crop": aligned.photo_from_crop.tolist(),
        "landmarks": aligned.landmarks.tolist(),
    }


def aligned_from_json(
    image: np.ndarray, data: dict[str, Any], *, name: str = "transform", config: AlignConfig = AlignConfig()
) -> AlignedFace:
    """Rebuild the AlignedFace stored in `data` from the same photo `image` [H, W, 3] uint8.

    The crop is re-sampled through the stored quad, so it matches the original bit for bit.
    """
    # 1. Check the record and that it belongs to this photo.
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"{name}: not an alignment transform (expected format '{FORMAT}')")
    if data.get("version") != VERSION:
        raise UserError(f"{name}: alignment transform version {data.get('version')} is not supported; re-run align")
    try:
        quad = np.asarray(data["quad"], dtype=np.float64)
        landmarks = np.asarray(data["landmarks"], dtype=np.float64)
        size = int(data["output_size"])
        photo_size = tuple(int(v) for v in data["photo_size"])
        convention = str(data["convention"])
        face_index = int(data.get("face_index", 0))
        box = data.get("face_box")
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{name}: alignment transform is incomplete ({exc}); re-run align") from None
    if quad.shape != (4, 2) or landmarks.shape != (68, 2) or convention not in CONVENTIONS or len(photo_size) != 2:
        raise UserError(f"{name}: alignment transform has wrong shapes; re-run align")
    actual = (int(image.shape[1]), int(image.shape[0]))
    if actual != photo_size:
        raise UserError(f"{name}: made for a {photo_size[0]}x{photo_size[1]} photo, this one is "
                        f"{actual[0]}x{actual[1]}; align this photo again")

    # 2. Re-sample.
    forward = crop_from_quad(quad, size)
    crop, fill_mask = sample_quad(image, quad, size, supersample=config.supersample)
    return AlignedFace(
        crop=crop, quad=quad, crop_from_photo=forward, photo_from_crop=invert_affine(forward),
        landmarks=landmarks, crop_landmarks=apply_affine(forward, landmarks), fill_mask=fill_mask,
        convention=convention, output_size=size, photo_size=photo_size, face_index=face_index,
        face_box=None if box is None else tuple(float(v) for v in box),
    )
