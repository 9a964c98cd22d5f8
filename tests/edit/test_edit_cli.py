"""`cli.py edit` and `cli.py batch` end to end on the demo model, with few steps (real photos, real stages)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cli

PHOTOS = Path(__file__).resolve().parents[1] / "data" / "photos"
FAST = ["--model", "demo-face-64", "--invert-steps", "12", "--pti-steps", "6", "--steps", "15"]
POINTS = {"points": [
    {"name": "left corner", "handle": {"landmark": "mouth_left"}, "target": {"offset": [0, -0.15]}},
    {"handle": {"landmark": "mouth_right"}, "target": {"offset": [0, -0.15]}},
]}


@pytest.fixture()
def points_file(tmp_path) -> Path:
    path = tmp_path / "pts.json"
    path.write_text(json.dumps(POINTS))
    return path


def test_edit_writes_a_same_size_photo_and_its_extras_then_reuses_the_session(tmp_path, points_file):
    photo = PHOTOS / "portrait_a.jpg"
    out, sbs, gif, rep, session = (tmp_path / n for n in ("out.jpg", "sbs.png", "drag.gif", "rep.json", "sess"))
    code = cli.main(["-q", "edit", str(photo), "--points", str(points_file), "-o", str(out), "--side-by-side", str(sbs),
                     "--trajectory", str(gif), "--report", str(rep), "--session", str(session), "--pti", "on", *FAST])
    assert code == 0
    before = np.asarray(Image.open(photo).convert("RGB"))
    with Image.open(out) as img:
        assert img.format == "JPEG" and img.size == (before.shape[1], before.shape[0])
    with Image.open(sbs) as img:
        assert img.size[1] == before.shape[0] and img.size[0] > 2 * before.shape[1]
    with Image.open(gif) as img:
        assert img.n_frames >= 2
    report = json.loads(rep.read_text())
    assert report["model"]["name"] == "demo-face-64" and report["backbone"] == "lpips-vgg"
    assert report["session"] == str(session) and (session / "session.json").is_file()
    assert report["inversion"]["tuned"] and report["inversion"]["pti"]["steps"] <= 6
    assert set(report["seconds"]) >= {"align", "invert", "pti", "map_points", "drag", "blend", "total"}
    assert report["drag"]["steps"] <= 15 and len(report["drag"]["points"]) == 2
    assert report["points"][0]["name"] == "left corner"
    # Landmark anchors: the target is 0.15 inter-ocular distances above the handle, in photo px.
    p0 = report["points"][0]
    assert np.hypot(*np.subtract(p0["target_photo"], p0["handle_photo"])) == pytest.approx(
        0.15 * report["inter_ocular_px"])
    # The figures are there for every mode, and the flags say whether any went over its limit.
    blend = report["blend"]
    assert {"new_content", "changed", "changed_outside_asked", "max_motion_px", "greyscale"} <= set(blend)
    assert 0.0 <= blend["new_content"] <= 1.0 and 0.0 <= blend["changed_outside_asked"] <= blend["changed"] <= 1.0
    assert isinstance(report["flags"], list) and report["face"]["box"] is not None
    # Outside the paste-back box nothing changed (the JPEG round trip aside, which is global).
    x0, y0, x1, y1 = report["blend"]["roi"]
    assert 0 <= x0 < x1 <= before.shape[1] and 0 <= y0 < y1 <= before.shape[0]

    # Second run: the session is reused, so no inversion time, and the edit is the same.
    out2, rep2 = tmp_path / "out2.png", tmp_path / "rep2.json"
    code = cli.main(["-q", "edit", str(photo), "--points", str(points_file), "-o", str(out2), "--report", str(rep2),
                     "--session", str(session), *FAST])
    assert code == 0
    again = json.loads(rep2.read_text())
    assert again["seconds"]["invert"] == 0 and again["seconds"]["pti"] == 0
    assert again["drag"]["trajectory"] == report["drag"]["trajectory"]
    edited = np.asarray(Image.open(out2).convert("RGB"))
    assert edited.shape == before.shape
    outside = np.ones(before.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(edited[outside], before[outside])  # PNG output: untouched pixels are bit-identical
    assert np.abs(edited.astype(int) - before.astype(int)).max() > 0


def test_edit_moves_the_handles_towards_their_targets_where_the_points_are(tmp_path):
    photo = PHOTOS / "portrait_a.jpg"
    pts, out, rep = tmp_path / "up.json", tmp_path / "out.png", tmp_path / "rep.json"
    pts.write_text(json.dumps({"points": [{"handle": {"landmark": name}, "target": {"offset": [0, -0.3]}}
                                          for name in ("mouth_left", "mouth_right")]}))
    fast = [*FAST[:-1], "30"]  # 30 drag steps; PTI auto (off on the single-latent demo model)
    assert cli.main(["-q", "edit", str(photo), "--points", str(pts), "-o", str(out), "--report", str(rep), *fast]) == 0
    report = json.loads(rep.read_text())
    # The tracked handles (crop px) ended nearer their targets, on average by 40% or more ...
    start, end = np.array(report["drag"]["trajectory"][0]), np.array(report["drag"]["trajectory"][-1])
    targets = np.array([p["target_crop"] for p in report["points"]])
    before_d, after_d = np.linalg.norm(targets - start, axis=1), np.linalg.norm(targets - end, axis=1)
    assert (after_d < before_d).all() and after_d.mean() <= 0.6 * before_d.mean(), (before_d, after_d)
    # ... and the photo changed around the mouth, where the points are, rather than around the eyes.
    before = np.asarray(Image.open(photo).convert("RGB")).astype(int)
    change = np.abs(np.asarray(Image.open(out).convert("RGB")).astype(int) - before).sum(axis=2).astype(float)
    # The demo model's edit reaches the whole face, so compare the mean change near each feature
    # (the centre of all change shifted by whole pixels with OpenCV's version: 35% apart here).
    ys, xs = np.mgrid[:change.shape[0], :change.shape[1]]
    radius = 0.4 * report["inter_ocular_px"]
    mouth = np.mean([p["handle_photo"] for p in report["points"]], axis=0)
    eyes = np.array(report["face"]["transform"]["landmarks"])[36:48].mean(axis=0)
    near_mouth, near_eyes = (change[np.hypot(xs - x, ys - y) < radius].mean() for x, y in (mouth, eyes))
    assert near_mouth > near_eyes, (near_mouth, near_eyes)


def test_edit_refuses_points_off_the_crop_and_outputs_over_inputs(tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    shutil.copy(PHOTOS / "portrait_a.jpg", photo)
    far = tmp_path / "far.json"
    far.write_text(json.dumps({"points": [{"handle": {"landmark": "nose_tip"}, "target": {"offset": [0, 5]}}]}))
    assert cli.main(["-q", "edit", str(photo), "--points", str(far), "-o", str(tmp_path / "o.jpg"), *FAST]) == 2
    err = capsys.readouterr().err
    assert "points[0].target" in err and "outside the face crop" in err and not (tmp_path / "o.jpg").exists()
    assert cli.main(["-q", "edit", str(photo), "--points", str(far), "-o", str(photo)]) == 2
    assert "also an input" in capsys.readouterr().err


def test_batch_reports_bad_photos_and_resumes(tmp_path, points_file, capsys):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(PHOTOS / "portrait_a.jpg", src / "a.jpg")
    two = Image.new("RGB", (560, 300), (90, 120, 160))  # two faces side by side
    two.paste(Image.open(PHOTOS / "grace_hopper.jpg").resize((256, 300)), (0, 0))
    two.paste(Image.open(PHOTOS / "portrait_a.jpg").resize((280, 280)), (280, 10))
    two.save(src / "b.png")
    good = (src / "a.jpg").read_bytes()
    (src / "corrupt.jpg").write_bytes(good[: len(good) // 3])
    (src / "text.jpg").write_text("not a photo at all\n")
    Image.open(PHOTOS / "portrait_a.jpg").crop((0, 0, 120, 120)).save(src / "noface.png")  # background only
    out = tmp_path / "out"
    args = ["-q", "batch", str(src), "--points", str(points_file), "-o", str(out), "--all-faces", *FAST]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    table = list(csv.DictReader((out / "summary.csv").open()))
    two_faces = [r for r in table if r["photo"] == "b.png"]
    assert [r["face"] for r in two_faces] == ["0", "1"] and all(r["status"] == "done" for r in two_faces)
    rows = {r["photo"]: r for r in table}
    assert set(rows) == {"a.jpg", "b.png", "corrupt.jpg", "noface.png", "text.jpg"}
    for name in ("a.jpg", "b.png"):
        assert rows[name]["status"] == "done" and int(rows[name]["steps"]) <= 15 and rows[name]["seconds_drag"]
        assert rows[name]["flagged"] in ("True", "False") and 0.0 <= float(rows[name]["new_content"]) <= 1.0
        assert (rows[name]["flagged"] == "True") == ("check" in rows[name]["reason"] or "%" in rows[name]["reason"])
        with Image.open(out / name) as img, Image.open(src / name) as orig:
            assert img.size == orig.size and img.format == orig.format
    for name in ("corrupt.jpg", "text.jpg", "noface.png"):
        assert rows[name]["status"] == "failed" and rows[name]["reason"] and not (out / name).exists()
        assert f"{name}: failed" in err
    assert "no face" in rows["noface.png"]["reason"]
    assert "flagged to check" in err

    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")
              if p.suffix in (".jpg", ".png") or p.parent.name == "reports"}
    assert cli.main(args) == 1  # the failures still stand ...
    assert "0 run now, 5 already finished" in capsys.readouterr().err
    assert stamps == {p: p.stat().st_mtime_ns for p in stamps}  # ... and nothing was redone
