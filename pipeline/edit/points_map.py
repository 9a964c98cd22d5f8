"""Step 3 of an edit: place the points file on one aligned face, in photo and crop pixels.

Landmark anchors are resolved on the photo's landmarks (offsets in the face frame, inter-ocular
units), literal points in the file's space; everything is then carried to the other space by
the crop's similarity transform. A handle or target the crop cannot hold is an error naming it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from pipeline.align import crop_to_photo, photo_to_crop
from pipeline.common import UserError

from pipeline.align.landmark_names import region_indices
from .edit_points import EditPoints, MaskSpec, PointRef


class FaceGeometry(Protocol):
    """What placing points needs from an aligned face (pipeline.align.AlignedFace has it)."""

    landmarks: np.ndarray        # [68, 2] photo px
    crop_from_photo: np.ndarray  # [2, 3] photo (x, y) -> crop (x, y)
    photo_from_crop: np.ndarray  # [2, 3]
    output_size: int             # S, crop side in px
    photo_size: tuple[int, int]  # (width, height)
    frame: tuple[np.ndarray, np.ndarray, float]  # the face's x axis, y axis, eye distance (photo px)
    scale: float                 # crop px per photo px


@dataclass(frozen=True, eq=False)
class PlacedPoints:
    handles_photo: np.ndarray  # [N, 2] float64 (x, y) photo px
    targets_photo: np.ndarray  # [N, 2]
    handles_crop: np.ndarray   # [N, 2] float64 (x, y) crop px, inside [0, S-1]
    targets_crop: np.ndarray   # [N, 2]
    names: tuple[str, ...]     # one per pair: the file's name, or 'points[i]'
    inter_ocular_px: float     # the face's inter-ocular distance in photo px (the offsets' unit)

    def to_json(self) -> list[dict]:
        return [{"name": n, "handle_photo": hp.tolist(), "target_photo": tp.tolist(),
                 "handle_crop": hc.tolist(), "target_crop": tc.tolist()}
                for n, hp, tp, hc, tc in zip(self.names, self.handles_photo, self.targets_photo,
                                            self.handles_crop, self.targets_crop)]


def place_points(spec: EditPoints, face: FaceGeometry) -> PlacedPoints:
    """Resolve every handle and target of `spec` on `face`; out-of-crop points raise UserError."""
    frame = face.frame
    iod = frame[2]
    handles = np.array([_resolve(p, spec.space, face, frame, None) for p in spec.handles])  # [N, 2] photo px
    targets = np.array([_resolve(t, spec.space, face, frame, h) for t, h in zip(spec.targets, handles)])
    handles_crop = photo_to_crop(handles, face)
    targets_crop = photo_to_crop(targets, face)
    for refs, photo_pts, crop_pts in ((spec.handles, handles, handles_crop), (spec.targets, targets, targets_crop)):
        for ref, p, c in zip(refs, photo_pts, crop_pts):
            _check_inside(ref, p, c, face, spec.source)
    names = tuple(n or f"points[{i}]" for i, n in enumerate(spec.names))
    return PlacedPoints(handles_photo=handles, targets_photo=targets, handles_crop=handles_crop,
                        targets_crop=targets_crop, names=names, inter_ocular_px=iod)


def mask_in_crop(mask: MaskSpec, space: str, face: FaceGeometry, *, source: str = "points") -> np.ndarray:
    """The flexible region [S, S] float32 of 0/1 (1 = may change) in crop pixels."""
    size = int(face.output_size)
    frame = face.frame
    if mask.kind == "region":
        crop_lm = photo_to_crop(face.landmarks, face)
        scale = face.scale
        inside = np.zeros((size, size), np.uint8)
        for name in mask.regions:
            hull = cv2.convexHull(np.round(crop_lm[list(region_indices(name, where=source))] * 16).astype(np.int32))
            cv2.fillConvexPoly(inside, hull, 1, cv2.LINE_8, 4)
        grow_px = mask.grow * frame[2] * scale
        out = (cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5) <= grow_px).astype(np.float32)
    elif mask.kind == "polygon":
        verts = np.array([_resolve(p, space, face, frame, None) for p in mask.polygon])
        crop_pts = photo_to_crop(verts, face)
        out = np.zeros((size, size), np.uint8)
        cv2.fillPoly(out, [np.round(crop_pts * 16).astype(np.int32)], 1, cv2.LINE_8, 4)
        out = out.astype(np.float32)
    else:
        out = _mask_image(mask, space, face, source)
    if not out.any():
        raise UserError(f"{source}: the mask covers no pixel of the face crop; draw it over the face")
    return out


def _resolve(ref: PointRef, space: str, face: FaceGeometry, frame, handle: np.ndarray | None) -> np.ndarray:
    """(x, y) photo px of one point."""
    x_axis, y_axis, iod = frame
    if ref.xy is not None:
        xy = np.asarray(ref.xy, dtype=np.float64)
        return crop_to_photo(xy, face) if space == "crop" else xy
    base = handle if ref.from_handle else np.asarray(face.landmarks, np.float64)[list(ref.landmarks)].mean(axis=0)
    dx, dy = ref.offset
    return base + iod * (dx * x_axis + dy * y_axis)


def _check_inside(ref: PointRef, photo_xy: np.ndarray, crop_xy: np.ndarray, face: FaceGeometry, source: str) -> None:
    size = int(face.output_size)
    cx, cy = crop_xy
    if 0.0 <= cx <= size - 1 and 0.0 <= cy <= size - 1:
        return
    px, py = photo_xy
    raise UserError(
        f"{source}: {ref.label} at photo ({px:.1f}, {py:.1f}) falls outside the face crop "
        f"(crop ({cx:.1f}, {cy:.1f}), valid 0..{size - 1}): move it onto the face or shorten the offset"
    )


def _mask_image(mask: MaskSpec, space: str, face: FaceGeometry, source: str) -> np.ndarray:
    size = int(face.output_size)
    if mask.pixels is None:
        raise ValueError("the mask image was not read: load the points with load_edit_points or with_mask_pixels")
    white = mask.pixels  # [H, W] 0/1 (common/mask_images.py)
    have = (white.shape[1], white.shape[0])
    if space == "crop":
        if have != (size, size):
            raise UserError(f"{source}: mask image {mask.image.name} is {have[0]}x{have[1]} but the crop is "
                            f"{size}x{size}; paint it on the crop, or use \"space\": \"photo\" with a photo-sized mask")
        return white
    if have != tuple(face.photo_size):
        raise UserError(f"{source}: mask image {mask.image.name} is {have[0]}x{have[1]} but the photo is "
                        f"{face.photo_size[0]}x{face.photo_size[1]}; paint the mask on the photo itself")
    warped = cv2.warpAffine(white, np.asarray(face.crop_from_photo, np.float64), (size, size),
                            flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return (warped >= 0.5).astype(np.float32)
