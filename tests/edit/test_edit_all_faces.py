"""Every face of a group photo (`--face all`): each edited on its own, all pasted into one photo."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cli
from pipeline.drag import DragConfig
from pipeline.edit import EditConfig, Editor, parse_edit_points
from pipeline.edit.all_faces import edit_every_face
from pipeline.edit.edit_types import STAGES
from pipeline.gan.loading import load_generator

CPU = torch.device("cpu")
PHOTOS = Path(__file__).resolve().parents[1] / "data" / "photos"
CONFIG = EditConfig(invert_steps=12, drag=DragConfig(max_steps=12))
SMILE = {"points": [{"handle": {"landmark": name}, "target": {"offset": [0, -0.2]}}
                    for name in ("mouth_left", "mouth_right")]}
FAST = ["--model", "demo-face-64", "--invert-steps", "12", "--pti-steps", "6", "--steps", "12"]


@pytest.fixture(scope="module")
def group_photo(tmp_path_factory) -> Path:
    """Two people side by side, close enough that their FFHQ crops overlap."""
    photo = Image.new("RGB", (440, 300), (90, 120, 160))
    photo.paste(Image.open(PHOTOS / "grace_hopper.jpg").resize((240, 280)), (0, 10))
    photo.paste(Image.open(PHOTOS / "portrait_a.jpg").resize((280, 280)).crop((50, 0, 280, 280)), (170, 20))
    path = tmp_path_factory.mktemp("group") / "group.png"
    photo.save(path)
    return path


def crop_outline(aligned, shape) -> np.ndarray:
    """[H, W] bool: the photo pixels on the edge of the face's crop square (1 px wide)."""
    t = np.linspace(0, aligned.output_size - 1, 8 * aligned.output_size)
    low, high = np.zeros_like(t), np.full_like(t, aligned.output_size - 1)
    edge = np.concatenate([np.stack(pair, 1) for pair in ((t, low), (t, high), (low, t), (high, t))])
    photo_xy = edge @ aligned.photo_from_crop[:, :2].T + aligned.photo_from_crop[:, 2]
    mask = np.zeros(shape[:2], bool)
    for x, y in np.round(photo_xy).astype(int):
        if 0 <= x < shape[1] and 0 <= y < shape[0]:
            mask[y, x] = True
    return mask


def inside_crop(aligned, shape) -> np.ndarray:
    """[H, W] bool: the photo pixels the face's crop square covers."""
    ys, xs = np.mgrid[: shape[0], : shape[1]]
    crop_xy = np.stack([xs, ys], -1) @ aligned.crop_from_photo[:, :2].T + aligned.crop_from_photo[:, 2]
    return ((crop_xy >= 0) & (crop_xy <= aligned.output_size - 1)).all(-1)


def test_every_face_is_edited_and_a_later_crop_keeps_the_earlier_edit(group_photo):
    G = load_generator("demo-face-64", device=CPU)
    # The FFHQ crop (the default model's, larger than the demo's own template crop) makes the crops overlap.
    G.model_info = {**G.model_info, "crop_convention": "ffhq", "landmark_template": None}
    original = np.asarray(Image.open(group_photo).convert("RGB"))
    editor = Editor(G, config=CONFIG, device=CPU, progress=False)
    assert len(editor.open(original, name="group.png")) == 2
    edited = edit_every_face(editor, parse_edit_points(SMILE))
    assert [r.aligned.face_index for r in edited.results] == [0, 1] and not edited.failures
    first, second = edited.results
    # Each face's seconds are its own (the second's total does not carry the first's).
    assert second.seconds["total"] < sum(second.seconds[s] for s in STAGES) + 0.5

    # The crops overlap (the case this is about), and face 0's edit reaches into face 1's crop.
    outline_1 = crop_outline(second.aligned, original.shape)
    changed_by_first = np.abs(first.photo.astype(int) - original).max(axis=2) > 0
    x0, y0, x1, y1 = second.blend.roi
    assert (changed_by_first & inside_crop(second.aligned, original.shape)).any(), \
        "test photo: the crops must overlap where face 0 changed"
    # Face 1 was cropped from the photo with face 0 already edited, so its inversion saw that edit.
    again = Editor(G, config=CONFIG, device=CPU, progress=False)
    again.open(original, name="group.png")
    assert not np.array_equal(again.select(1).crop, second.aligned.crop)
    assert np.array_equal(again.select(1, photo=first.photo).crop, second.aligned.crop)

    # Face 1's paste-back changed nothing outside its own soft face mask: face 0's edit is intact,
    # and the crop's rectangle is nowhere to be seen (at most a faded level or two on its edge).
    alpha_1 = np.zeros(original.shape[:2], np.float32)
    alpha_1[y0:y1, x0:x1] = second.blend.alpha
    change = np.abs(edited.photo.astype(int) - first.photo).max(axis=2)
    moved = change > 0
    assert moved.any() and not (moved & (alpha_1 == 0)).any()
    assert change[outline_1].max() <= 3 < change.max() / 4
    kept = changed_by_first & (alpha_1 == 0)
    assert kept.any() and np.array_equal(edited.photo[kept], first.photo[kept])
    # Far from both faces the photo is bit-identical.
    assert np.array_equal(edited.photo[:, -6:], original[:, -6:])


def test_edit_face_all_writes_one_photo_and_reports_each_face(group_photo, tmp_path, capsys):
    points = tmp_path / "smile.json"
    points.write_text(json.dumps(SMILE))
    out, report, gif = tmp_path / "out.png", tmp_path / "report.json", tmp_path / "drag.gif"
    args = ["-q", "edit", str(group_photo), "--points", str(points), "-o", str(out), "--face", "all",
            "--report", str(report), "--trajectory", str(gif), "--side-by-side", str(tmp_path / "sbs.png"), *FAST]
    assert cli.main(args) == 0
    data = json.loads(report.read_text())
    assert data["faces_found"] == 2 and [f["face"]["index"] for f in data["faces"]] == [0, 1] and not data["failed"]
    assert all(f["drag"]["steps"] <= 12 and 0 <= f["blend"]["new_content"] <= 1 for f in data["faces"])
    with Image.open(out) as img:
        assert img.size == Image.open(group_photo).size
    assert (tmp_path / "drag_face0.gif").is_file() and (tmp_path / "drag_face1.gif").is_file()
    with Image.open(tmp_path / "sbs.png") as img:
        assert img.size[0] > 2 * 440

    # A session holds one face, so it does not go with --face all.
    assert cli.main(["-q", "edit", str(group_photo), "--points", str(points), "-o", str(tmp_path / "o2.png"),
                     "--face", "all", "--session", str(tmp_path / "s"), *FAST]) == 2
    assert "--session holds one face" in capsys.readouterr().err
    assert cli.main(["-q", "edit", str(group_photo), "--points", str(points), "--face", "both", *FAST]) == 2
    assert "--face must be a face index (0, 1, ...) or all" in capsys.readouterr().err


def test_a_face_that_cannot_take_the_edit_is_reported_and_the_others_are_written(group_photo, tmp_path, capsys):
    points = tmp_path / "photo-px.json"  # photo px on the left face: off the right face's crop
    points.write_text(json.dumps({"space": "photo", "points": [{"handle": [105, 140], "target": [105, 134]}]}))
    out, report = tmp_path / "out.png", tmp_path / "report.json"
    assert cli.main(["-q", "edit", str(group_photo), "--points", str(points), "-o", str(out), "--face", "all",
                     "--report", str(report), *FAST]) == 1
    err = capsys.readouterr().err
    assert "1 of 2 faces failed (face 1:" in err and f"written to {out}" in err
    data = json.loads(report.read_text())
    assert [f["face"]["index"] for f in data["faces"]] == [0] and [f["face"] for f in data["failed"]] == [1]
    assert out.is_file()
