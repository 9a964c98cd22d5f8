"""Paste-back on the real photos: untouched outside the mask, faithful inside, exact with flow."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from pipeline.align import align_face, align_photo
from pipeline.blend import blend_face, dense_flow, face_mask, seamless_clone

PHOTO_NAMES = ("astronaut.png", "grace_hopper.jpg", "portrait_a.jpg", "portrait_b.jpg", "messi5.jpg")


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255.0 ** 2 / max(mse, 1e-12))


def _regions(result, shape):
    """Photo masks: where alpha is exactly 0 (incl. outside the roi), and where it is > 0.5."""
    x0, y0, x1, y1 = result.roi
    untouched = np.ones(shape[:2], bool)
    untouched[y0:y1, x0:x1] = result.alpha == 0
    face = np.zeros(shape[:2], bool)
    face[y0:y1, x0:x1] = result.alpha > 0.5
    return untouched, face


def smile(aligned, amount=0.03):
    """A drag-like smooth warp of the crop: mouth corners out and up by `amount` of the side."""
    size = aligned.output_size
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = np.zeros_like(xx), np.zeros_like(yy)
    for idx, sign in ((48, -1.0), (54, 1.0)):
        cx, cy = aligned.crop_landmarks[idx]
        bump = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.07 * size) ** 2))
        dx += sign * amount * size * bump
        dy -= amount * size * bump
    return cv2.remap(aligned.crop, xx - dx, yy - dy, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT_101)


def sharpness(image, region):
    lap = cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float64), cv2.CV_64F, ksize=3)
    return float(lap[region].var())


@pytest.mark.parametrize("name", PHOTO_NAMES)
@pytest.mark.parametrize("mode", ["feather", "poisson"])
def test_unedited_crop_pastes_back_faithfully(photos, aligned512, name, mode):
    photo = photos[name].pixels
    result = blend_face(photo, aligned512[name].crop, aligned512[name], mode=mode)
    untouched, face = _regions(result, photo.shape)
    assert result.photo.shape == photo.shape and result.mode == mode
    assert np.array_equal(result.photo[untouched], photo[untouched])
    extent = np.ptp(aligned512[name].landmarks, axis=0)
    assert face.sum() > 0.5 * extent[0] * extent[1]  # the mask covers at least the face
    assert _psnr(result.photo[face], photo[face]) >= 30.0


@pytest.mark.parametrize("name", PHOTO_NAMES)
@pytest.mark.parametrize("size", [64, 512])
def test_flow_with_an_unedited_crop_returns_the_photo_exactly(photos, detections, aligned512, name, size):
    photo = photos[name].pixels
    aligned = aligned512[name] if size == 512 else align_face(photo, detections[name][1][0], size, "ffhq")
    result = blend_face(photo, aligned.crop, aligned, mode="flow")
    assert np.array_equal(result.photo, photo)
    assert result.new_content == 0.0 and result.max_motion_px == 0.0
    # Also when the reconstruction is a (different) generator render equal to the edit: no edit, no change.
    render = cv2.GaussianBlur(aligned.crop, (0, 0), 1.5)
    assert np.array_equal(blend_face(photo, render, aligned, reconstruction=render, mode="flow").photo, photo)


def test_input_photo_is_never_modified(photos, aligned512):
    photo = photos["portrait_a.jpg"].pixels
    before = photo.copy()
    blend_face(photo, smile(aligned512["portrait_a.jpg"]), aligned512["portrait_a.jpg"], mode="flow")
    blend_face(photo, smile(aligned512["portrait_a.jpg"]), aligned512["portrait_a.jpg"], mode="feather")
    assert np.array_equal(photo, before)


def test_auto_mode_is_flow_for_fine_and_coarse_photos(photos, detections, aligned512):
    name = "portrait_b.jpg"
    photo = photos[name].pixels
    small = align_face(photo, detections[name][1][0], 64, "ffhq")
    assert blend_face(photo, small.crop, small).mode == "flow"
    messi = aligned512["messi5.jpg"]  # a 37 px face in a 512 px crop: the photo's own pixels still win
    result = blend_face(photos["messi5.jpg"].pixels, messi.crop, messi)
    assert result.mode == "flow" and result.new_content == 0.0  # an unedited crop brings in nothing


@pytest.mark.parametrize("mode", ["feather", "poisson", "flow"])
def test_face_touching_the_photo_border(photos, detections, mode):
    """Cut through the face: the mask reaches the photo's edge; fill pixels stay out of it."""
    name = "portrait_b.jpg"
    cut_x = int(detections[name][1][0][:, 0].min()) + 20
    photo = np.ascontiguousarray(photos[name].pixels[:, cut_x:])
    aligned = align_photo(photo, name="cut.jpg", output_size=256)
    assert aligned.fill_mask.max() > 0.99
    result = blend_face(photo, aligned.crop, aligned, mode=mode)
    untouched, face = _regions(result, photo.shape)
    assert result.roi[0] == 0  # the face region does reach the left border
    assert np.array_equal(result.photo[untouched], photo[untouched])
    assert _psnr(result.photo[face], photo[face]) >= 30.0
    # The mask never takes pixels that were mostly padding fill.
    alpha_crop = face_mask(aligned)
    assert alpha_crop[aligned.fill_mask > 0.99].max() < 0.01


def test_seamless_clone_is_safe_at_the_border():
    rng = np.random.default_rng(0)
    target = np.full((80, 100, 3), 90, np.uint8)
    source = np.clip(rng.normal(160, 20, (80, 100, 3)), 0, 255).astype(np.uint8)
    region = np.zeros((80, 100), bool)
    region[:40, :50] = True  # touches the top and left edges
    out = seamless_clone(source, target, region)
    assert out.shape == target.shape
    assert np.array_equal(out[~region], target[~region])
    assert abs(float(out[5:35, 5:45].mean()) - 90.0) < 10.0  # gradients from the source, level from the target


def test_flow_redoes_the_edit_sharply_on_a_fine_photo(photos, detections):
    """A 64 px crop into a 584x824 photo: flow keeps the photo's detail, feather cannot."""
    name = "portrait_b.jpg"
    photo = photos[name].pixels
    aligned = align_face(photo, detections[name][1][0], 64, "ffhq")
    edited = smile(aligned)
    flow = blend_face(photo, edited, aligned, mode="flow")
    feather = blend_face(photo, edited, aligned, mode="feather")
    _, face = _regions(feather, photo.shape)
    base = sharpness(photo, face)
    assert sharpness(flow.photo, face) >= 0.8 * base
    assert sharpness(feather.photo, face) < 0.5 * base
    assert flow.max_motion_px > 0.02 * aligned.output_size / aligned.scale
    # The edit is really there: re-cropped, the flow result matches the edited crop far better
    # than the unedited one.
    again = align_face(flow.photo, aligned.landmarks, 64, "ffhq").crop
    inner = face_mask(aligned) > 0.9
    assert _psnr(again[inner], edited[inner]) > _psnr(again[inner], aligned.crop[inner]) + 8.0


def test_flow_brings_in_new_content_from_the_generator(photos, detections):
    name = "grace_hopper.jpg"
    photo = photos[name].pixels
    aligned = align_face(photo, detections[name][1][0], 128, "ffhq")
    edited = smile(aligned, amount=0.01)
    centre = aligned.crop_landmarks[60:68].mean(axis=0)
    cv2.ellipse(edited, (int(centre[0]), int(centre[1])), (8, 3), 0, 0, 360, (250, 250, 245), -1)
    result = blend_face(photo, edited, aligned, mode="flow")
    assert result.new_content > 0.0
    spot = np.rint(aligned.photo_from_crop[:, :2] @ centre + aligned.photo_from_crop[:, 2]).astype(int)
    patch = result.photo[spot[1] - 1:spot[1] + 2, spot[0] - 1:spot[0] + 2].astype(float)
    assert patch.mean() > 200 and photo[spot[1], spot[0]].mean() < 200


def test_tracked_points_pin_the_flow(aligned512):
    crop = aligned512["portrait_a.jpg"].crop
    start = np.array([[200.0, 300.0]])
    end = np.array([[206.0, 298.0]])
    field = dense_flow(crop, crop, anchors=(start, end))
    x, y = ((end[0] + 0.5) * field.grid_scale - 0.5).astype(int)
    np.testing.assert_allclose(field.flow[y, x], start[0] - end[0], atol=0.2)
    assert np.abs(field.flow[0, 0]).max() < 1e-3  # far away, nothing moves


def test_new_content_ignores_texture_and_counts_structure(aligned512):
    """Skin smoothed by the render is not new content (the photo keeps its own); a new blob is."""
    from pipeline.blend import dense_flow, new_content

    aligned = aligned512["portrait_b.jpg"]
    crop = aligned.crop
    alpha = np.ones(crop.shape[:2], np.float32)
    rng = np.random.default_rng(0)
    textured = np.clip(crop.astype(np.int16) + rng.integers(-25, 26, crop.shape), 0, 255).astype(np.uint8)
    weight, _ = new_content(dense_flow(crop, textured), textured, alpha)
    assert weight.mean() < 0.01
    blob = crop.copy()
    cv2.circle(blob, (256, 330), 40, (20, 20, 20), -1)
    weight, _ = new_content(dense_flow(blob, crop), crop, alpha)
    grid = weight.shape[0] / 512
    assert weight[int(330 * grid), int(256 * grid)] > 0.9 and weight.mean() < 0.1
