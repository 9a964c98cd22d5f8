"""Paste-back keeps the photo's look (greyscale, colour, grain) and measures every mode the same way."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.align import align_photo
from pipeline.blend import blend_face
from pipeline.blend.look import _noise_level, is_greyscale, match_look

from test_blend_paste_back import smile


def _grey(photo: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)


def _face(result) -> tuple[slice, slice, np.ndarray]:
    x0, y0, x1, y1 = result.roi
    return slice(y0, y1), slice(x0, x1), result.alpha > 0.5


@pytest.mark.parametrize("mode", ["flow", "feather", "poisson"])
def test_a_greyscale_photo_stays_greyscale(photos, mode):
    grey = _grey(photos["portrait_a.jpg"].pixels)
    aligned = align_photo(grey, output_size=256)
    colour = align_photo(photos["portrait_a.jpg"].pixels, output_size=256)
    # The render is in colour (as a generator's always is), and the edit made new content.
    edited = smile(colour, amount=0.05)
    edited[150:175, 100:156] = (200, 40, 40)  # a red patch where the mouth is: new content
    result = blend_face(grey, edited, aligned, reconstruction=colour.crop, mode=mode)
    spread = result.photo.max(axis=2).astype(int) - result.photo.min(axis=2).astype(int)
    assert result.greyscale
    assert spread.max() == 0, f"{mode}: colour came into a greyscale photo"
    assert not np.array_equal(result.photo, grey)  # the edit is there


def test_a_colour_photo_is_not_taken_for_greyscale(photos):
    photo = photos["portrait_b.jpg"].pixels
    assert not is_greyscale(photo, np.ones(photo.shape[:2], np.float32))
    assert is_greyscale(_grey(photo), np.ones(photo.shape[:2], np.float32))


def test_generator_pixels_take_the_photo_colour(photos, aligned512):
    aligned = aligned512["portrait_b.jpg"]
    # A generator with a warm cast: its reconstruction and its edit both carry it.
    tint = lambda im: np.clip(im.astype(int) + (40, -10, -30), 0, 255).astype(np.uint8)  # noqa: E731
    result = blend_face(photos["portrait_b.jpg"].pixels, tint(smile(aligned)), aligned,
                        reconstruction=tint(aligned.crop), mode="feather")
    rows, cols, face = _face(result)
    lab = lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2LAB).astype(float)[face]  # noqa: E731
    before, after = lab(photos["portrait_b.jpg"].pixels[rows, cols]), lab(result.photo[rows, cols])
    shift = np.abs(after[:, 1:].mean(axis=0) - before[:, 1:].mean(axis=0))
    assert shift.max() < 3.0, f"the render's tint came through: a/b mean shift {shift}"


def test_generator_pixels_get_the_photo_grain(photos, aligned512):
    clean = photos["portrait_a.jpg"].pixels
    noise = np.random.default_rng(1).standard_normal(clean.shape[:2])[:, :, None] * 8.0
    grainy = np.clip(clean + noise, 0, 255).astype(np.uint8)
    aligned = align_photo(grainy, output_size=512)
    render = align_photo(clean, output_size=512).crop  # what a generator gives: no grain
    result = blend_face(grainy, render, aligned, mode="feather")
    rows, cols, face = _face(result)
    target = _noise_level(grainy[rows, cols], face)
    got = _noise_level(result.photo[rows, cols], face)
    everywhere = np.ones(render.shape[:2], bool)
    assert _noise_level(render, everywhere) < 0.5 * _noise_level(aligned.crop, everywhere)  # the render is clean
    assert 0.7 * target <= got <= 1.3 * target, f"grain {got:.2f} against the photo's {target:.2f}"


def test_match_look_leaves_pixels_outside_the_weight_alone(photos):
    photo = photos["portrait_a.jpg"].pixels[:128, :128]
    weight = np.zeros((128, 128), np.float32)
    weight[32:96, 32:96] = 1.0
    generated = np.full_like(photo, 120)
    out = match_look(generated, photo, weight)
    assert np.array_equal(out[weight == 0], generated[weight == 0])


@pytest.mark.parametrize("mode", ["flow", "feather", "poisson"])
def test_every_mode_reports_new_content_for_a_render_of_another_colour(photos, aligned512, mode):
    aligned = aligned512["portrait_a.jpg"]
    other = aligned.crop.copy()
    other[:, :, 1] = other[:, :, 0]  # a differently coloured, differently shaded render over the face
    other = cv2.GaussianBlur(255 - other, (0, 0), 3)
    result = blend_face(photos["portrait_a.jpg"].pixels, other, aligned, reconstruction=aligned.crop, mode=mode)
    assert result.new_content > 0.25, f"{mode}: new content {result.new_content:.3f} for a replaced face"
    assert result.changed > 0.5


@pytest.mark.parametrize("mode", ["flow", "feather"])
def test_an_unedited_crop_reports_no_change(photos, aligned512, mode):
    aligned = aligned512["grace_hopper.jpg"]
    result = blend_face(photos["grace_hopper.jpg"].pixels, aligned.crop, aligned, mode=mode)
    assert result.new_content < 0.01 and result.changed < 0.02 and result.max_motion_px == 0.0


def test_a_moved_face_is_motion_not_new_content(photos, aligned512):
    aligned = aligned512["portrait_b.jpg"]
    result = blend_face(photos["portrait_b.jpg"].pixels, smile(aligned), aligned, mode="feather")
    assert result.max_motion_px > 2.0
    assert result.new_content < 0.05 and result.changed > 0.01
