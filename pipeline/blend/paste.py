"""Put the edited crop back into the full photo without a visible seam.

Modes:
  feather  inverse-warp the edited crop and alpha-composite it through the feathered face mask;
  poisson  the same region solved with cv2.seamlessClone, then feathered;
  none     hard paste of the whole crop (minus padding fill): for debugging;
  flow     redo the edit on the photo's own pixels: the edit's dense flow (edited vs unedited
           reconstruction), carried to photo resolution, warps the ORIGINAL photo; generator
           pixels come in only where the edit made new content. Keeps a 12 MP photo sharp
           when the generator is 64 or 512 px.
  auto     flow, whatever the photo's resolution. The 1024 px default model makes a crop larger than
           most faces in photos, and flow keeps the photo's own pixels (grain, colour, a greyscale
           photo's lack of colour) where feather would paste the render over the whole face:
           measured on examples/grace_hopper.jpg with examples/points.json, feather took the face
           from the render (wrinkles smoothed), flow kept 85% of it the photo's own.
"""
from __future__ import annotations

import logging

import cv2
import numpy as np

from .edit_flow import dense_flow, flow_in_photo, move_points, new_content
from .look import is_greyscale, match_look, to_grey
from .mask import face_mask
from .measure import measure_change
from .poisson import seamless_clone
from .blend_types import MODES, BlendConfig, BlendResult, CropGeometry
from .warp import crop_scale, crop_to_roi, image_to_roi, roi_of

logger = logging.getLogger(__name__)


def blend_face(
    photo: np.ndarray,
    edited_crop: np.ndarray,
    aligned: CropGeometry,
    *,
    reconstruction: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    mode: str = "auto",
    edited_landmarks: np.ndarray | None = None,
    anchors: tuple[np.ndarray, np.ndarray] | None = None,
    focus: np.ndarray | None = None,
    seed: int = 0,
    config: BlendConfig = BlendConfig(),
) -> BlendResult:
    """Blend `edited_crop` into `photo`; pixels outside the returned roi/alpha are untouched.

    photo          [H, W, 3] uint8 RGB, the photo `aligned` was cut from (never modified)
    edited_crop    [S, S, 3] uint8 RGB, the generator's edited render
    reconstruction [S, S, 3] uint8 RGB, the generator's render of the UNEDITED latent
                   (default: the aligned crop itself); flow mode measures the edit against it
    mask           [S, S] float in [0, 1], replaces the automatic face mask (padding fill is still cut out)
    edited_landmarks [68, 2] crop px of the edited face (default: original ones moved by the edit's flow)
    anchors        (start, end) [K, 2] crop px: tracked points of the drag, pinning the flow
    focus          [S, S] float in [0, 1]: where the points asked for change (for the figures only)
    seed           seeds the grain given to generator pixels
    Generator pixels take the photo's look first (look.py); a greyscale photo stays greyscale.
    The figures (measure.py) are taken on the final photo, the same way for every mode.
    """
    # 1. Check inputs once.
    size = int(aligned.output_size)
    _check_inputs(photo, edited_crop, aligned, reconstruction, mask, focus, mode)
    photo = np.ascontiguousarray(photo)  # cv2.remap reads it whole; a strided view would be copied anyway
    reconstruction = aligned.crop if reconstruction is None else reconstruction
    mode = "flow" if mode == "auto" else mode

    # 2. The edit's flow: flow mode redoes the edit with it, and every mode is measured by it.
    field = dense_flow(edited_crop, reconstruction, anchors=anchors, config=config)
    if edited_landmarks is None:
        edited_landmarks = move_points(aligned.crop_landmarks, field)

    # 3. Mask in crop space, then the photo box it covers.
    alpha_crop = _alpha_in_crop(aligned, mode, mask, edited_landmarks, config)
    alpha_crop = np.where(alpha_crop < config.alpha_floor, 0.0, alpha_crop).astype(np.float32)
    roi = roi_of(alpha_crop, aligned)
    if roi is None:
        logger.warning("the face mask is empty; the photo is returned unchanged")
        return BlendResult(photo=photo.copy(), mode=mode, roi=(0, 0, 0, 0), alpha=np.zeros((0, 0), np.float32),
                           new_content=0.0, max_motion_px=0.0)
    x0, y0, x1, y1 = roi
    interp = cv2.INTER_NEAREST if mode == "none" else cv2.INTER_LINEAR
    alpha = crop_to_roi(alpha_crop, aligned, roi, interpolation=interp)
    alpha[alpha < config.alpha_floor] = 0.0
    base = photo[y0:y1, x0:x1]
    greyscale = is_greyscale(base, alpha)

    # 4. The photo's own pixels moved by the edit's flow (backward displacement, photo px).
    disp = flow_in_photo(field, aligned, roi)  # [h, w, 2]
    map_x = np.arange(x0, x1, dtype=np.float32)[None, :] + disp[:, :, 0]
    map_y = np.arange(y0, y1, dtype=np.float32)[:, None] + disp[:, :, 1]
    warped = cv2.remap(photo, map_x, map_y, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)

    # 5. Composite, then the photo's lack of colour where it has none.
    out, share = _composite(mode, warped, base, edited_crop, aligned, field, alpha_crop, alpha, roi, seed, config)
    if greyscale:
        out = np.where(alpha[:, :, None] > 0, to_grey(out), base)

    # 6. The figures, on the final pixels.
    motion = float(np.sqrt((field.flow ** 2).sum(axis=2)).max()) / crop_scale(aligned)
    figures = measure_change(
        base, out, warped, alpha, sigma_px=config.new_content_scale * size / crop_scale(aligned),
        max_motion_px=motion, config=config,
        focus=None if focus is None else crop_to_roi(focus.astype(np.float32), aligned, roi))
    logger.debug("%s paste-back: motion %.2f photo px, new content %.1f%%, changed %.1f%% of the face", mode, motion,
                 100 * figures.new_content, 100 * figures.changed)
    result = photo.copy()
    result[y0:y1, x0:x1] = out
    return BlendResult(photo=result, mode=mode, roi=roi, alpha=alpha, new_content=figures.new_content,
                       max_motion_px=motion, changed=figures.changed, changed_outside=figures.changed_outside,
                       generator_share=share, greyscale=greyscale)


def _check_inputs(photo, edited_crop, aligned, reconstruction, mask, focus, mode) -> None:
    size = int(aligned.output_size)
    _check_rgb(photo, "photo")
    _check_rgb(edited_crop, "edited crop")
    if edited_crop.shape[:2] != (size, size):
        raise ValueError(f"edited crop is {edited_crop.shape[1]}x{edited_crop.shape[0]}, "
                         f"the alignment made {size}x{size}")
    if (photo.shape[1], photo.shape[0]) != tuple(aligned.photo_size):
        raise ValueError(f"photo is {photo.shape[1]}x{photo.shape[0]}, the alignment was for "
                         f"{aligned.photo_size[0]}x{aligned.photo_size[1]}")
    if reconstruction is not None:
        _check_rgb(reconstruction, "reconstruction")
    if mode not in MODES:
        raise ValueError(f"unknown paste-back mode '{mode}'; use one of {', '.join(MODES)}")
    for name, array in (("mask", mask), ("focus", focus)):
        if array is not None and array.shape != (size, size):
            raise ValueError(f"{name} must be [{size}, {size}], got {array.shape}")


def _alpha_in_crop(aligned, mode, mask, edited_landmarks, config) -> np.ndarray:
    """[S, S] float32 in [0, 1]: what paste-back may change, in crop px (padding fill cut out)."""
    if mode == "none":
        return (np.clip(aligned.fill_mask, 0, 1) < 0.5).astype(np.float32)
    if mask is not None:
        return np.clip(mask.astype(np.float32), 0, 1) * (1.0 - np.clip(aligned.fill_mask, 0, 1))
    return face_mask(aligned, edited_landmarks, config=config)


def _composite(mode, warped, base, edited_crop, aligned, field, alpha_crop, alpha, roi, seed, config):
    """The roi [h, w, 3] uint8 after paste-back, and the share of the face taken from the render.

    uint8 throughout: where a weight is 0, blendLinear returns the pixel as it was."""
    if mode == "flow":
        return _flow_composite(warped, base, edited_crop, aligned, field, alpha_crop, alpha, roi, seed, config)
    source = image_to_roi(edited_crop, aligned, roi)
    if mode != "none":
        _, offset = new_content(field, aligned.crop, alpha_crop, config=config)  # the photo's colour cast
        source = image_to_roi(np.clip(edited_crop.astype(np.float32) + offset, 0, 255), aligned, roi)
        source = match_look(source, base, alpha, seed=seed)
    if mode == "poisson":
        source = seamless_clone(source, base, alpha > 0)
    return _mix(source, base, alpha), 1.0


def _flow_composite(warped, base, edited_crop, aligned, field, alpha_crop, alpha, roi, seed, config):
    """The photo's own pixels moved by the edit's flow; generator pixels only for new content.

    Returns the roi [h, w, 3] uint8 and the share of the face taken from generator pixels."""
    out = _mix(warped, base, alpha)
    weight_g, offset = new_content(field, aligned.crop, alpha_crop, config=config)
    if not weight_g.any():
        return out, 0.0
    fresh = image_to_roi(np.clip(edited_crop.astype(np.float32) + offset, 0, 255), aligned, roi)
    weight = crop_to_roi(weight_g, aligned, roi, grid_scale=field.grid_scale) * alpha
    weight[weight < config.alpha_floor] = 0.0
    fresh = match_look(fresh, warped, alpha, seed=seed)
    share = float(weight.sum() / max(float(alpha.sum()), 1e-6))
    return _mix(fresh, out, weight), share


def _mix(top: np.ndarray, bottom: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """weight * top + (1 - weight) * bottom for [h, w, 3] uint8 images and a [h, w] float32 weight."""
    return cv2.blendLinear(top, np.ascontiguousarray(bottom), weight, 1.0 - weight)


def _check_rgb(image: np.ndarray, what: str) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{what} must be [H, W, 3] uint8 RGB, got {getattr(image, 'dtype', type(image))} "
                         f"{getattr(image, 'shape', '')}")
