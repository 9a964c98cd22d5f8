"""Quad geometry, the half-pixel convention, and the sampler against NVIDIA's PIL recipe."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.align import (align_face, apply_affine, crop_from_quad, crop_to_photo, ffhq_quad, invert_affine,
                            photo_to_crop, template_quad)
from pipeline.align.sample import sample_quad


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * math.log10(255.0 ** 2 / max(mse, 1e-12))


def _synthetic_landmarks(eye_left, eye_right, mouth_left, mouth_right) -> np.ndarray:
    lm = np.zeros((68, 2))
    lm[36:42] = eye_left
    lm[42:48] = eye_right
    lm[48] = mouth_left
    lm[54] = mouth_right
    return lm


def test_ffhq_quad_matches_the_recipe_for_an_upright_face():
    # Eyes 60 px apart, mouth 70 px below: x = (60, 0) + (70, 0) -> unit (1, 0) * max(120, 126).
    lm = _synthetic_landmarks((100, 200), (160, 200), (110, 270), (150, 270))
    quad = ffhq_quad(lm)
    half = max(2.0 * 60, 1.8 * 70)
    c = np.array([130.0, 200.0 + 0.1 * 70])
    expected = np.array([c + (-half, -half), c + (-half, half), c + (half, half), c + (half, -half)])
    np.testing.assert_allclose(quad, expected, atol=1e-9)


def test_ffhq_quad_rotates_with_the_face():
    lm = _synthetic_landmarks((100, 200), (160, 200), (110, 270), (150, 270))
    theta = math.radians(25)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    turned = ffhq_quad(lm @ rot.T + (40, -10))
    np.testing.assert_allclose(turned, ffhq_quad(lm) @ rot.T + (40, -10), atol=1e-9)


def test_crop_affine_puts_quad_corners_on_the_crop_edges():
    quad = np.array([[10.3, 20.1], [5.2, 120.7], [105.8, 125.8], [110.9, 25.2]])
    m = crop_from_quad(quad, 256)
    np.testing.assert_allclose(apply_affine(m, quad), [[-0.5, -0.5], [-0.5, 255.5], [255.5, 255.5], [255.5, -0.5]],
                               atol=1e-9)
    lin = m[:, :2]
    np.testing.assert_allclose(lin @ lin.T, np.eye(2) * np.linalg.det(lin), atol=1e-9)  # a similarity, no shear


def test_template_fit_recovers_a_similarity_and_never_reflects():
    rng = np.random.default_rng(0)
    template = rng.uniform(0.2, 0.8, size=(68, 2))
    size = 64
    target = template * size - 0.5
    theta, scale, shift = 0.3, 4.2, np.array([300.0, 120.0])
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    photo_pts = (target @ rot.T) * scale + shift
    quad = template_quad(photo_pts, template, size)
    m = crop_from_quad(quad, size)
    np.testing.assert_allclose(apply_affine(m, photo_pts), target, atol=1e-8)
    mirrored = photo_pts * (-1, 1)
    assert np.linalg.det(crop_from_quad(template_quad(mirrored, template, size), size)[:, :2]) > 0


def test_point_maps_are_inverse():
    quad = np.array([[10.3, 20.1], [5.2, 120.7], [105.8, 125.8], [110.9, 25.2]])

    class T:
        crop_from_photo = crop_from_quad(quad, 512)
        photo_from_crop = invert_affine(crop_from_photo)

    pts = np.random.default_rng(1).uniform(0, 130, size=(50, 2))
    np.testing.assert_allclose(crop_to_photo(photo_to_crop(pts, T), T), pts, atol=1e-9)


def _nvidia_reference(image: np.ndarray, quad: np.ndarray, size: int) -> np.ndarray:
    """NVIDIA's sampling (no shrink, no padding): PIL QUAD at 4x with quad + 0.5, then Lanczos."""
    img = Image.fromarray(image)
    big = img.transform((4 * size, 4 * size), Image.QUAD, (quad + 0.5).flatten(), Image.BILINEAR)
    return np.asarray(big.resize((size, size), Image.LANCZOS))


@pytest.mark.parametrize("name,size", [("portrait_a.jpg", 256), ("portrait_b.jpg", 512), ("messi5.jpg", 128)])
def test_sampler_matches_pil_quad_recipe(photos, detections, name, size):
    """Same pixels as NVIDIA's PIL path: the half-pixel convention of the quad is right."""
    image = photos[name].pixels
    quad = ffhq_quad(detections[name][1][0])
    ours, fill = sample_quad(image, quad, size)
    assert fill.max() == 0.0  # these quads stay inside the photo: no padding
    ref = _nvidia_reference(image, quad, size)
    assert _psnr(ours, ref) > 45.0
    # A half-pixel error in the quad would cost a lot: check the test can tell.
    shifted = _nvidia_reference(image, quad + 0.5, size)
    assert _psnr(ours, shifted) < _psnr(ours, ref) - 3.0


def test_sampler_with_shrink_matches_pil_recipe(photos, detections):
    """A large face (quad over twice the crop) takes the shrink path; geometry still holds."""
    image = cv2.resize(photos["portrait_a.jpg"].pixels, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    lm = (detections["portrait_a.jpg"][1][0] + 0.5) * 3 - 0.5
    quad = ffhq_quad(lm)
    size = 128
    shrink = int(np.floor(np.hypot(*(quad[3] - quad[0])) / size * 0.5))
    assert shrink >= 2
    ours, _ = sample_quad(image, quad, size)
    # NVIDIA: resize the whole photo by 1/shrink (ANTIALIAS), quad / shrink, then QUAD.
    img = Image.fromarray(image)
    small = img.resize((round(img.width / shrink), round(img.height / shrink)), Image.LANCZOS)
    ref = _nvidia_reference(np.asarray(small), (quad + 0.5) / shrink - 0.5, size)
    assert _psnr(ours, ref) > 45.0


def test_blob_round_trip_photo_crop_photo_within_half_pixel(photos, detections):
    """Mark sub-pixel spots in the photo, find them in the crop, map back: < 0.5 px."""
    name = "portrait_b.jpg"
    image = photos[name].pixels
    lm = detections[name][1][0]
    spots = lm[[30, 36, 45, 48, 54, 33]] + np.array([0.3, -0.2])
    yy, xx = np.mgrid[0:image.shape[0], 0:image.shape[1]].astype(np.float64)
    for size in (64, 512):  # a crop coarser, and one finer, than the photo
        aligned = align_face(image, lm, size, "ffhq")
        sigma = 3.0 * max(1.0, 1.0 / aligned.scale)  # at least 3 px wide in the crop and in the photo
        for spot in spots:
            # The sampler is linear (up to uint8 rounding): crop the spot alone on black.
            blob = 250.0 * np.exp(-((xx - spot[0]) ** 2 + (yy - spot[1]) ** 2) / (2 * sigma ** 2))
            blob_rgb = np.repeat(np.rint(blob).astype(np.uint8)[:, :, None], 3, axis=2)
            crop = align_face(blob_rgb, lm, size, "ffhq").crop[:, :, 0].astype(np.float64)
            ys, xs = np.nonzero(crop > 0.05 * crop.max())
            w = crop[ys, xs]
            found = np.array([(xs * w).sum() / w.sum(), (ys * w).sum() / w.sum()])
            np.testing.assert_allclose(found, photo_to_crop(spot, aligned), atol=0.5 * aligned.scale + 0.05)
            assert np.hypot(*(crop_to_photo(found, aligned) - spot)) < 0.5, (size, spot)
