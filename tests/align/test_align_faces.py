"""Detection, face choice and FFHQ alignment on the real test photos."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.align import (DetectConfig, DetectedFace, align_all_faces, align_face, align_photo, aligned_from_json,
                            aligned_to_json, detect_faces, find_faces, predict_landmarks, select_face)
from pipeline.common import UserError

PHOTO_NAMES = ("astronaut.png", "grace_hopper.jpg", "portrait_a.jpg", "portrait_b.jpg", "messi5.jpg")


def _eye_centres(landmarks: np.ndarray) -> np.ndarray:
    return np.stack([landmarks[36:42].mean(axis=0), landmarks[42:48].mean(axis=0)])


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_one_face_in_each_photo(detections, name):
    faces, marks = detections[name]
    assert len(faces) == 1
    assert marks[0].shape == (68, 2)
    left, top, right, bottom = faces[0].box
    inside = (marks[0][:, 0] > left - 0.3 * faces[0].width) & (marks[0][:, 0] < right + 0.3 * faces[0].width)
    assert inside.all()


def test_weak_hits_are_dropped_but_kept_when_asked(photos):
    # The astronaut's mission patch fires at score ~0.1: min_score drops it.
    weak_too = detect_faces(photos["astronaut.png"].pixels, config=DetectConfig(min_score=-1.0))
    assert len(weak_too) == 2
    assert min(f.score for f in weak_too) < 0.3


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_aligned_eyes_land_where_the_ffhq_recipe_puts_them(aligned512, name):
    """Landmarks found again on the 512 px crop: eye centres within 2% of the crop size."""
    aligned = aligned512[name]
    faces, marks = find_faces(aligned.crop)
    assert len(faces) >= 1
    found = _eye_centres(marks[int(np.argmax([f.area for f in faces]))])
    expected = _eye_centres(aligned.crop_landmarks)
    assert np.abs(found - expected).max() < 0.02 * 512, (found, expected)
    assert abs(expected[:, 0].mean() - 255.5) < 0.1 * 512  # the recipe centres the eyes horizontally


def test_faces_are_ordered_left_to_right_and_the_largest_is_default(photos):
    small = cv2.resize(photos["portrait_a.jpg"].pixels, (300, 300), interpolation=cv2.INTER_AREA)
    big = photos["grace_hopper.jpg"].pixels[:, :, :]
    canvas = np.full((600, 300 + 512, 3), 128, np.uint8)
    canvas[150:450, :300] = small
    canvas[:, 300:] = big
    faces = detect_faces(canvas)
    assert len(faces) == 2
    assert faces[0].centre_x < faces[1].centre_x
    assert select_face(faces, None, name="pair.jpg") == int(np.argmax([f.area for f in faces])) == 1
    aligned = align_photo(canvas, name="pair.jpg", face=0, output_size=64)
    assert aligned.face_index == 0 and aligned.landmarks[:, 0].max() < 300
    everyone = align_all_faces(canvas, name="pair.jpg", output_size=64)
    assert [a.face_index for a in everyone] == [0, 1]
    with pytest.raises(UserError, match=r"pair\.jpg.*--face 2.*2 face"):
        select_face(faces, 2, name="pair.jpg")


def test_no_face_is_a_one_line_error_naming_the_photo():
    rng = np.random.default_rng(0)
    landscape = cv2.GaussianBlur(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), (0, 0), 5)
    with pytest.raises(UserError) as info:
        align_photo(landscape, name="landscape.jpg")
    message = str(info.value)
    assert "landscape.jpg" in message and "no face" in message and "\n" not in message


def test_too_small_face_is_refused(photos):
    face = DetectedFace(box=(10.0, 10.0, 29.0, 29.0), score=1.0)
    with pytest.raises(UserError, match=r"tiny\.jpg.*20 px wide"):
        select_face([face], None, name="tiny.jpg")
    # For real: messi's 37 px face passes the default 32 px floor but not a 40 px one.
    with pytest.raises(UserError, match="messi"):
        align_photo(photos["messi5.jpg"].pixels, name="messi5.jpg", detect=DetectConfig(min_face_px=40))


def test_large_photo_detects_on_a_reduced_copy_and_refines(photos, detections):
    """A 4x photo (over max_side) gives the same face and landmarks, scaled."""
    name = "portrait_a.jpg"
    big = cv2.resize(photos[name].pixels, None, fx=4, fy=4, interpolation=cv2.INTER_CUBIC)
    config = DetectConfig(max_side=800)
    faces = detect_faces(big, config=config)
    assert len(faces) == 1
    face0 = detections[name][0][0]
    expected_box = (np.array(face0.box) + 0.5) * 4 - 0.5
    assert np.abs(np.array(faces[0].box) - expected_box).max() < 0.15 * face0.width * 4
    marks = predict_landmarks(big, faces[0])
    expected = (detections[name][1][0] + 0.5) * 4 - 0.5
    assert np.abs(marks - expected).mean() < 0.03 * face0.width * 4


def test_border_touching_face_marks_padding_fill(photos, detections):
    """Cut the photo through the face: the crop's outside-the-photo part is fill, the rest is photo."""
    name = "portrait_b.jpg"
    left_cut = int(detections[name][1][0][:, 0].min()) + 20  # through the jaw
    cut = np.ascontiguousarray(photos[name].pixels[:, left_cut:])
    aligned = align_photo(cut, name="cut.jpg", output_size=256)
    size = aligned.output_size
    # Crop pixels whose centre maps outside the photo are (nearly) pure fill.
    yy, xx = np.mgrid[0:size, 0:size]
    pts = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float64)
    photo_pts = pts @ aligned.photo_from_crop[:, :2].T + aligned.photo_from_crop[:, 2]
    outside = (photo_pts[:, 0] < -2).reshape(size, size)
    # The script's fill fades into the photo over pad/3 from every padded edge: stay clear of it.
    central = (np.abs(xx - size / 2) < size / 4) & (np.abs(yy - size / 2) < size / 4)
    well_inside = (photo_pts[:, 0] > 0.15 * size / aligned.scale).reshape(size, size) & central
    assert outside.any() and well_inside.any()
    assert aligned.fill_mask[outside].min() > 0.99
    assert aligned.fill_mask[well_inside].max() == 0.0


def test_transform_json_round_trip_rebuilds_the_same_crop(photos, aligned512):
    name = "grace_hopper.jpg"
    record = json.loads(json.dumps(aligned_to_json(aligned512[name])))
    again = aligned_from_json(photos[name].pixels, record, name="crop.json")
    assert np.array_equal(again.crop, aligned512[name].crop)
    np.testing.assert_allclose(again.crop_from_photo, aligned512[name].crop_from_photo, atol=1e-12)
    np.testing.assert_allclose(again.crop_landmarks, aligned512[name].crop_landmarks, atol=1e-9)
    with pytest.raises(UserError, match="crop.json.*512x600"):
        aligned_from_json(photos["portrait_a.jpg"].pixels, record, name="crop.json")
    with pytest.raises(UserError, match="not an alignment transform"):
        aligned_from_json(photos[name].pixels, {"quad": []}, name="crop.json")


def test_template_convention_puts_landmarks_on_the_template(photos, detections, aligned512):
    """A template taken from one FFHQ crop, applied to another photo: a similarity fit."""
    template = (aligned512["portrait_a.jpg"].crop_landmarks + 0.5) / 512
    name = "grace_hopper.jpg"
    aligned = align_face(photos[name].pixels, detections[name][1][0], 64, "template", template=template)
    assert aligned.crop.shape == (64, 64, 3) and aligned.convention == "template"
    residual = np.abs(aligned.crop_landmarks - (template * 64 - 0.5))
    assert residual.mean() < 0.05 * 64  # two different faces: only a similarity apart, roughly
    lin = aligned.crop_from_photo[:, :2]
    np.testing.assert_allclose(lin @ lin.T, np.eye(2) * np.linalg.det(lin), atol=1e-12)
    with pytest.raises(UserError, match="template"):
        align_face(photos[name].pixels, detections[name][1][0], 64, "template")


def test_demo_model_template_crop_puts_the_eyes_on_the_template(photos):
    """The shipped demo generator's template (64 px): landmarks found again on the crop (4x
    bicubic, as the template was measured) sit on the template."""
    path = Path(__file__).resolve().parents[2] / "checkpoints" / "demo-face-64.landmarks.json"
    if not path.is_file():
        pytest.skip("the demo model's landmark template is not in this checkout")
    template = np.asarray(json.loads(path.read_text())["template"], dtype=np.float64)
    aligned = align_photo(photos["grace_hopper.jpg"].pixels, output_size=64, convention="template",
                          template=template)
    big = cv2.resize(aligned.crop, (256, 256), interpolation=cv2.INTER_CUBIC)
    _, marks = find_faces(big)
    found = (marks[0] + 0.5) / 256  # template units: fractions of the side from the outer corner
    assert np.abs(_eye_centres(found) - _eye_centres(template)).max() < 0.02
