"""Points file: validation, landmark names, anchors in the face frame, masks (pure geometry, no GAN)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.align import align_face
from pipeline.common import UserError
from pipeline.align.landmark_names import ALIASES, POINT_NAMES, REGIONS, face_frame, landmark_indices
from pipeline.edit.points_map import mask_in_crop, place_points
from pipeline.edit.edit_points import load_edit_points, parse_edit_points

TEMPLATE = np.array(json.loads((Path(__file__).resolve().parents[2] / "checkpoints" /
                                "demo-face-64.landmarks.json").read_text())["template"], dtype=np.float64)
PHOTO = np.zeros((480, 640, 3), np.uint8)


def face_at(angle_deg: float = 0.0, scale: float = 180.0, centre=(300.0, 220.0), size: int = 64):
    """A face whose landmarks are the demo template rotated/scaled/moved into a 640x480 photo."""
    a = np.deg2rad(angle_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    landmarks = (TEMPLATE - 0.5) * scale @ rot.T + np.asarray(centre)
    return align_face(PHOTO, landmarks, size, "template", template=TEMPLATE)


def spec(points, **extra):
    return parse_edit_points({"points": points, **extra}, source="pts.json")


def test_every_landmark_has_a_systematic_name_and_aliases_agree():
    systematic = {name: i for name, i in POINT_NAMES.items() if name not in ALIASES}
    assert sorted(systematic.values()) == list(range(68))
    assert POINT_NAMES["mouth_left"] == POINT_NAMES["outer_lip_0"] == 48
    assert POINT_NAMES["mouth_right"] == 54 and POINT_NAMES["chin"] == POINT_NAMES["jaw_8"] == 8
    assert landmark_indices("Left-Eye", where="x") == REGIONS["left_eye"] == tuple(range(36, 42))
    assert landmark_indices(0, where="x") == (0,)


@pytest.mark.parametrize("data, fragment", [
    ({"points": []}, "non-empty"),
    ({"points": [{"handle": [1, 2]}]}, "points[0] has no target"),
    ({"points": [{"handle": [1, 2], "target": [3, 4], "colour": 1}]}, "unknown key"),
    ({"points": [{"handle": [1, True], "target": [3, 4]}]}, "points[0].handle"),
    ({"points": [{"handle": [1, 2], "target": [3, float("nan")]}]}, "finite"),
    ({"points": [{"handle": {"offset": [0, 1]}, "target": [3, 4]}]}, "points[0].handle needs a \"landmark\""),
    ({"points": [{"handle": {"landmark": "mouth_lft"}, "target": [3, 4]}]}, "unknown landmark 'mouth_lft'"),
    ({"points": [{"handle": {"landmark": 68}, "target": [3, 4]}]}, "landmark 68 does not exist"),
    ({"points": [{"handle": [1, 2], "target": [3, 4]}], "space": "image"}, '"space"'),
    ({"points": [{"handle": [1, 2], "target": [3, 4]}], "mask": {"region": "mouth", "polygon": []}}, "choose one"),
    ({"points": [{"handle": [1, 2], "target": [3, 4]}], "mask": {"region": "lips"}}, "unknown region"),
    ({"points": [{"handle": [1, 2], "target": [3, 4]}], "mask": {"region": "mouth", "grow": 5}}, "grow"),
    ({"points": [{"handle": [1, 2], "target": [3, 4]}], "mask": {"polygon": [[0, 0], [1, 1]]}}, "at least 3"),
    ({"points": [{"handle": [1, 2], "target": [3, 4]}], "extra": 1}, "unknown key(s) ['extra']"),
])
def test_invalid_files_name_the_problem(data, fragment):
    with pytest.raises(UserError) as err:
        parse_edit_points(data, source="pts.json")
    assert fragment in str(err.value) and str(err.value).startswith("pts.json")


def test_load_reports_bad_json_with_line(tmp_path):
    path = tmp_path / "pts.json"
    path.write_text('{"points": [\n  {"handle": [1, 2],, }\n]}')
    with pytest.raises(UserError, match="line 2"):
        load_edit_points(path)


def test_round_trip_of_every_form():
    data = {"space": "crop", "points": [
        {"name": "corner", "handle": {"landmark": "mouth_left"}, "target": {"offset": [0.0, -0.1]}},
        {"handle": {"landmark": 54, "offset": [0.05, 0.0]}, "target": {"landmark": "nose_tip", "offset": [0, 0]}},
        {"handle": [10.0, 20.0], "target": [11.0, 21.0]},
    ], "mask": {"region": ["mouth", "jaw"], "grow": 0.3}}
    parsed = spec(data["points"], space="crop", mask=data["mask"])
    again = parse_edit_points(parsed.to_json(), source="again")
    assert again.to_json() == parsed.to_json()
    assert parsed.names == ("corner", None, None) and parsed.mask.regions == ("mouth", "jaw")


def test_offset_is_in_the_face_frame_and_inter_ocular_units():
    pts = spec([{"handle": {"landmark": "mouth_left"}, "target": {"offset": [0.0, -0.1]}},
                {"handle": {"landmark": "mouth_right"}, "target": {"offset": [0.2, 0.0]}}])
    upright = place_points(pts, face_at(0.0))
    _, _, iod = face_frame(face_at(0.0).landmarks)
    up = upright.targets_photo - upright.handles_photo
    # The template's eyes are level to within a degree: "up" is -y, "right" is +x in the photo.
    np.testing.assert_allclose(np.linalg.norm(up, axis=1), [0.1 * iod, 0.2 * iod], rtol=1e-9)
    assert up[0, 1] < -0.099 * iod and abs(up[0, 0]) < 0.01 * iod
    assert up[1, 0] > 0.199 * iod
    np.testing.assert_allclose(upright.handles_photo[0], face_at(0.0).landmarks[48])
    assert upright.inter_ocular_px == pytest.approx(iod)


def test_same_file_means_the_same_edit_on_a_rotated_scaled_face():
    pts = spec([{"handle": {"landmark": "mouth_left"}, "target": {"offset": [0.05, -0.15]}},
                {"handle": {"landmark": "left_eye", "offset": [0, 0.3]}, "target": {"landmark": "nose_tip"}}])
    a, b = face_at(0.0, 180.0, (300, 220)), face_at(35.0, 120.0, (350, 250))
    pa, pb = place_points(pts, a), place_points(pts, b)
    # In crop pixels (the generator's frame) the two faces are the same, so the points must be too.
    np.testing.assert_allclose(pa.handles_crop, pb.handles_crop, atol=1e-6)
    np.testing.assert_allclose(pa.targets_crop, pb.targets_crop, atol=1e-6)
    # ... and in photo pixels they differ by the faces' similarity.
    assert not np.allclose(pa.targets_photo, pb.targets_photo, atol=1.0)


def test_literal_points_in_photo_and_crop_space_map_through_the_crop():
    face = face_at(20.0)
    photo_pts = place_points(spec([{"handle": [300.0, 230.0], "target": [305.0, 225.0]}]), face)
    crop_pts = place_points(spec([{"handle": photo_pts.handles_crop[0].tolist(),
                                   "target": photo_pts.targets_crop[0].tolist()}], space="crop"), face)
    np.testing.assert_allclose(crop_pts.handles_photo, [[300.0, 230.0]], atol=1e-9)
    np.testing.assert_allclose(crop_pts.targets_photo, [[305.0, 225.0]], atol=1e-9)


def test_points_outside_the_crop_are_named():
    face = face_at(0.0)
    with pytest.raises(UserError, match=r"points\[1\]\.target at photo .* outside the face crop"):
        place_points(spec([{"handle": {"landmark": "nose_tip"}, "target": {"offset": [0, -0.1]}},
                           {"handle": {"landmark": "nose_tip"}, "target": {"offset": [0, 3.0]}}]), face)
    with pytest.raises(UserError, match=r"points\[0\]\.handle"):
        place_points(spec([{"handle": [5.0, 5.0], "target": [300.0, 220.0]}]), face)


def test_region_mask_covers_its_landmarks_and_grows():
    face = face_at(10.0)
    mouth = spec([{"handle": [300, 220], "target": [300, 221]}], mask={"region": "mouth", "grow": 0.0})
    grown = spec([{"handle": [300, 220], "target": [300, 221]}], mask={"region": "mouth", "grow": 0.3})
    m0 = mask_in_crop(mouth.mask, mouth.space, face)
    m1 = mask_in_crop(grown.mask, grown.space, face)
    assert m0.shape == (64, 64) and set(np.unique(m0)) <= {0.0, 1.0}
    inside = np.round(face.crop_landmarks[48:68]).astype(int)
    assert m0[inside[:, 1], inside[:, 0]].mean() > 0.9
    eyes = np.round(face.crop_landmarks[36:48]).astype(int)
    assert m1[eyes[:, 1], eyes[:, 0]].sum() == 0
    assert m1.sum() > 1.5 * m0.sum() and np.all(m1 >= m0)


def test_polygon_and_image_masks(tmp_path):
    face = face_at(0.0)
    poly = spec([{"handle": [300, 220], "target": [300, 221]}],
                mask={"polygon": [{"landmark": "jaw_left_top"}, {"landmark": "jaw_right_top"}, {"landmark": "chin"}]})
    m = mask_in_crop(poly.mask, poly.space, face)
    nose = np.round(face.crop_landmarks[33]).astype(int)
    assert m[nose[1], nose[0]] == 1.0 and m[2, 2] == 0.0

    # A photo-sized image mask: white rectangle over the mouth area only.
    lm = face.landmarks
    box = np.zeros(PHOTO.shape[:2], np.uint8)
    x0, y0 = lm[48:68].min(axis=0).astype(int) - 5
    x1, y1 = lm[48:68].max(axis=0).astype(int) + 5
    box[y0:y1, x0:x1] = 255
    Image.fromarray(box).save(tmp_path / "mask.png")
    (tmp_path / "pts.json").write_text(json.dumps({"points": [{"handle": [300, 220], "target": [300, 221]}],
                                                   "mask": {"image": "mask.png"}}))
    img = load_edit_points(tmp_path / "pts.json")
    m = mask_in_crop(img.mask, img.space, face)
    mouth = np.round(face.crop_landmarks[62]).astype(int)
    assert m[mouth[1], mouth[0]] == 1.0 and m[nose[1] - 6, nose[0]] == 0.0

    Image.fromarray(box[:100, :100]).save(tmp_path / "mask.png")
    img = load_edit_points(tmp_path / "pts.json")  # the mask image is read with the points file
    with pytest.raises(UserError, match="100x100 but the photo is 640x480"):
        mask_in_crop(img.mask, img.space, face)
