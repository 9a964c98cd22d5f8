"""HOG and CNN detection merged: turned heads found, no face counted twice, landmarks from CNN boxes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.align import DetectConfig, detect_faces, predict_landmarks, select_face
from pipeline.align.cnn_detect import box_from_landmarks
from pipeline.common import UserError
from pipeline.common.images import read_photo

TURNED = Path(__file__).resolve().parents[1] / "data" / "faces" / "turned_face.jpg"


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return ix * iy / (area(a) + area(b) - ix * iy)


def test_the_cnn_finds_a_turned_head_hog_misses():
    image = read_photo(TURNED).pixels
    assert detect_faces(image, config=DetectConfig(detector="hog")) == []
    faces = detect_faces(image)  # auto
    assert len(faces) == 1 and faces[0].source == "cnn"
    marks = predict_landmarks(image, faces[0])
    left, top, right, bottom = faces[0].box
    centre = marks.mean(axis=0)
    assert left <= centre[0] <= right and top <= centre[1] <= bottom


@pytest.mark.parametrize("name", ["grace_hopper.jpg", "portrait_a.jpg", "portrait_b.jpg"])
def test_a_face_both_detectors_find_is_counted_once_with_the_hog_box(photos, name):
    image = photos[name].pixels
    hog = detect_faces(image, config=DetectConfig(detector="hog"))
    auto = detect_faces(image)
    assert len(auto) == len(hog) == 1
    assert auto[0].source == "hog" and auto[0].box == hog[0].box
    cnn = detect_faces(image, config=DetectConfig(detector="cnn"))
    assert len(cnn) == 1 and cnn[0].source == "cnn" and _iou(cnn[0].box, hog[0].box) > 0.5


@pytest.mark.parametrize("name", ["grace_hopper.jpg", "portrait_b.jpg"])
def test_landmarks_from_a_cnn_box_match_the_hog_ones(photos, name):
    image = photos[name].pixels
    hog = detect_faces(image, config=DetectConfig(detector="hog"))[0]
    cnn = detect_faces(image, config=DetectConfig(detector="cnn"))[0]
    ref, got = predict_landmarks(image, hog), predict_landmarks(image, cnn)
    iod = np.linalg.norm(ref[36:42].mean(axis=0) - ref[42:48].mean(axis=0))
    assert np.linalg.norm(got - ref, axis=1).mean() / iod < 0.08
    assert _iou(box_from_landmarks(ref), hog.box) > 0.6  # the box the landmarks stand for is HOG's


def test_the_largest_face_is_the_default_choice(photos):
    image = photos["grace_hopper.jpg"].pixels
    small = image[::4, ::4]
    canvas = np.zeros((image.shape[0], image.shape[1] + small.shape[1] + 20, 3), np.uint8)
    canvas[: small.shape[0], : small.shape[1]] = small  # a small face on the left, as in a group
    canvas[:, small.shape[1] + 20:] = image
    faces = detect_faces(canvas)
    assert len(faces) == 2 and faces[0].centre_x < faces[1].centre_x
    assert select_face(faces, None, name="group") == 1


def test_an_unknown_detector_is_a_one_line_error(photos):
    with pytest.raises(UserError, match="unknown face detector"):
        detect_faces(photos["portrait_a.jpg"].pixels, config=DetectConfig(detector="yolo"))
