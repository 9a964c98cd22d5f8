"""An edit that changed far more than its points asked is flagged; a local edit is not."""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.blend import blend_face
from pipeline.edit.change_check import CHANGED_OUTSIDE_LIMIT, NEW_CONTENT_LIMIT, change_flags, focus_region


def _mouth_points(aligned, amount=0.02):
    """Mouth corners out by `amount` of the crop side: the handles and targets, crop px."""
    handles = aligned.crop_landmarks[[48, 54]]
    targets = handles + np.array([[-amount, 0.0], [amount, 0.0]]) * aligned.output_size
    return handles, targets


def _moved_mouth(aligned, amount=0.02):
    size = aligned.output_size
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx = np.zeros_like(xx)
    for idx, sign in ((48, -1.0), (54, 1.0)):
        cx, cy = aligned.crop_landmarks[idx]
        dx += sign * amount * size * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.05 * size) ** 2))
    return cv2.remap(aligned.crop, xx - dx, yy, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)


def test_focus_region_covers_the_handle_paths_and_the_mask(aligned512):
    aligned = aligned512["portrait_b.jpg"]
    handles, targets = _mouth_points(aligned)
    focus = focus_region(handles, targets, aligned.crop_inter_ocular_px, aligned.output_size)
    for x, y in np.vstack([handles, targets]).round().astype(int):
        assert focus[y, x] == 1.0
    eye = aligned.crop_landmarks[36:42].mean(axis=0).round().astype(int)
    assert focus[eye[1], eye[0]] == 0.0  # the eyes are not what a mouth edit asks for
    mask = np.zeros_like(focus)
    mask[eye[1] - 3:eye[1] + 4, eye[0] - 3:eye[0] + 4] = 1.0
    with_mask = focus_region(handles, targets, aligned.crop_inter_ocular_px, aligned.output_size, mask)
    assert with_mask[eye[1], eye[0]] == 1.0


def test_a_local_mouth_edit_is_not_flagged(photos, aligned512):
    aligned = aligned512["portrait_b.jpg"]
    handles, targets = _mouth_points(aligned)
    focus = focus_region(handles, targets, aligned.crop_inter_ocular_px, aligned.output_size)
    result = blend_face(photos["portrait_b.jpg"].pixels, _moved_mouth(aligned), aligned, focus=focus)
    assert result.changed > 0.01  # the edit is there ...
    assert result.changed_outside < CHANGED_OUTSIDE_LIMIT and result.new_content < NEW_CONTENT_LIMIT
    assert change_flags(result) == []


def test_an_edit_that_moved_the_whole_face_is_flagged(photos, aligned512):
    aligned = aligned512["portrait_b.jpg"]
    handles, targets = _mouth_points(aligned)
    focus = focus_region(handles, targets, aligned.crop_inter_ocular_px, aligned.output_size)
    # The points asked to widen the mouth; this "edit" also shifted the whole face and changed its light.
    shift = np.float32([[1, 0, 0.03 * aligned.output_size], [0, 1, 0.02 * aligned.output_size]])
    everything = cv2.warpAffine(_moved_mouth(aligned), shift, (aligned.output_size,) * 2,
                                borderMode=cv2.BORDER_REFLECT_101)
    everything = np.clip(everything.astype(int) * 0.8, 0, 255).astype(np.uint8)
    result = blend_face(photos["portrait_b.jpg"].pixels, everything, aligned, reconstruction=aligned.crop,
                        focus=focus)
    assert result.changed_outside > CHANGED_OUTSIDE_LIMIT
    flags = change_flags(result)
    assert any("outside the region the points asked" in f for f in flags)


def test_a_render_that_replaced_the_face_is_flagged(photos, aligned512):
    aligned = aligned512["grace_hopper.jpg"]
    other = cv2.GaussianBlur(255 - aligned.crop, (0, 0), 4)  # nothing like the photo
    result = blend_face(photos["grace_hopper.jpg"].pixels, other, aligned, reconstruction=aligned.crop,
                        mode="feather")
    assert any("new content" in f for f in change_flags(result))
