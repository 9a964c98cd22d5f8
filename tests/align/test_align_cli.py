"""`cli.py landmarks` / `cli.py align`, and finding dlib's landmark model."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cli
from pipeline.align import landmark_predictor as landmarks_module
from pipeline.align.landmark_predictor import PREDICTOR_ENV, find_predictor
from pipeline.common import UserError

PHOTO_DIR = Path(__file__).resolve().parents[1] / "data" / "photos"


def test_predictor_is_found_without_importing_its_package(monkeypatch):
    monkeypatch.delenv(PREDICTOR_ENV, raising=False)
    path = find_predictor()
    assert path.name == "shape_predictor_68_face_landmarks.dat" and path.is_file()


def test_predictor_user_path_env_and_the_error_naming_all_three(monkeypatch, tmp_path):
    with pytest.raises(UserError, match="not found at"):
        find_predictor(tmp_path / "missing.dat")
    monkeypatch.setenv(PREDICTOR_ENV, str(tmp_path / "env.dat"))
    with pytest.raises(UserError, match="env.dat"):
        find_predictor()
    monkeypatch.delenv(PREDICTOR_ENV)
    monkeypatch.setattr(landmarks_module, "_package_predictor", lambda: None)
    monkeypatch.setattr(landmarks_module, "DEBIAN_PREDICTOR", tmp_path / "absent" / "x.dat")
    with pytest.raises(UserError) as info:
        find_predictor()
    message = str(info.value)
    assert "face-recognition-models" in message and "libdlib-data" in message and "--predictor" in message
    assert "\n" not in message


def test_cli_align_writes_crop_and_transform(tmp_path, capsys):
    photo = tmp_path / "hopper.jpg"
    shutil.copy(PHOTO_DIR / "grace_hopper.jpg", photo)
    before = photo.read_bytes()
    assert cli.main(["-q", "align", str(photo), "-o", str(tmp_path / "crop.png"), "--size", "128"]) == 0
    with Image.open(tmp_path / "crop.png") as img:
        assert img.size == (128, 128)
    record = json.loads((tmp_path / "crop.json").read_text())
    assert record["output_size"] == 128 and record["photo_size"] == [512, 600]
    assert np.asarray(record["quad"]).shape == (4, 2) and np.asarray(record["landmarks"]).shape == (68, 2)
    assert photo.read_bytes() == before
    # Never over the input.
    assert cli.main(["-q", "align", str(photo), "-o", str(photo)]) == 2
    assert photo.read_bytes() == before
    assert "overwrite" in capsys.readouterr().err


def test_cli_landmarks_draws_a_preview(tmp_path):
    out = tmp_path / "preview.png"
    assert cli.main(["-q", "landmarks", str(PHOTO_DIR / "portrait_a.jpg"), "-o", str(out),
                     "--json", str(tmp_path / "marks.json")]) == 0
    marks = json.loads((tmp_path / "marks.json").read_text())
    zoom = marks["preview_zoom"]
    with Image.open(out) as img:
        assert img.size == (434 * zoom, 434 * zoom)
        preview = np.asarray(img.convert("RGB"))
    # The preview differs from the enlarged photo at the landmarks (they are drawn there).
    x, y = np.rint((np.asarray(marks["landmarks"][30]) + 0.5) * zoom - 0.5).astype(int)
    plain = np.asarray(Image.open(PHOTO_DIR / "portrait_a.jpg").convert("RGB").resize((434 * zoom,) * 2))
    assert np.abs(preview[y, x].astype(int) - plain[y, x]).max() > 30


def test_cli_landmarks_enlarges_a_tiny_face_only_as_far_as_a_preview_stays_openable(tmp_path):
    out = tmp_path / "preview.png"  # messi5's face is 36 px wide: a 600 px preview would need 17x
    assert cli.main(["-q", "landmarks", str(PHOTO_DIR / "messi5.jpg"), "-o", str(out)]) == 0
    with Image.open(out) as img:
        assert max(img.size) <= 4096 and img.size[0] % 548 == 0 and img.size[0] > 548


def test_cli_no_face_is_one_line_with_the_photo_name(tmp_path, capsys):
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(90, 110, (200, 300, 3), dtype=np.uint8)).save(tmp_path / "wall.jpg")
    assert cli.main(["-q", "align", str(tmp_path / "wall.jpg"), "-o", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "wall.jpg" in err and "no face" in err
    assert not (tmp_path / "c.png").exists()


def test_cli_template_needs_a_template(tmp_path, capsys):
    args = ["-q", "align", str(PHOTO_DIR / "portrait_a.jpg"), "-o", str(tmp_path / "c.png"), "--convention", "template"]
    assert cli.main(args) == 2
    assert "--template-json" in capsys.readouterr().err
    template = np.full((68, 2), 0.5) + np.random.default_rng(0).uniform(-0.2, 0.2, (68, 2))
    (tmp_path / "t.json").write_text(json.dumps({"landmark_template": template.tolist()}))
    assert cli.main(args + ["--template-json", str(tmp_path / "t.json"), "--size", "64"]) == 0
    assert json.loads((tmp_path / "c.json").read_text())["convention"] == "template"
