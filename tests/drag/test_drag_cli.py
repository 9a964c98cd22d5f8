"""`cli.py drag` end to end on the NVIDIA-format fixture pickle: outputs, report, animation, errors."""
import json

import numpy as np
import pytest
from PIL import Image

import cli

PICKLE = "stylegan3-G_ema.pkl"  # the 64 px StyleGAN2 reference fixture as a network pickle


@pytest.fixture()
def pts(tmp_path):
    path = tmp_path / "pts.json"
    path.write_text(json.dumps({"points": [{"handle": [30, 33], "target": [26, 36]}]}))
    return path


def run_cli(*args):
    return cli.main(["-q", "drag", *map(str, args)])


def test_drag_writes_image_report_and_trajectory(stylegan2_fixtures, pts, tmp_path):
    out, report, gif, mask = tmp_path / "out.png", tmp_path / "report.json", tmp_path / "traj.gif", tmp_path / "m.png"
    m = np.zeros((64, 64), np.uint8)
    m[16:48, 16:48] = 255
    Image.fromarray(m).save(mask)
    code = run_cli("--model", stylegan2_fixtures / PICKLE, "--seed", 1, "--points", pts, "-o", out, "--steps", 4,
                   "--device", "cpu", "--report", report, "--trajectory", gif, "--mask", mask)
    assert code == 0
    assert Image.open(out).size == (64, 64)
    rep = json.loads(report.read_text())
    for key in ("model", "seed", "settings", "points", "steps", "converged", "seconds_total", "seconds_per_step", "device"):
        assert key in rep, key
    assert rep["seed"] == 1 and rep["device"] == "cpu" and rep["settings"]["max_steps"] == 4
    point = rep["points"][0]
    assert point["handle_start"] == [30.0, 33.0] and point["target"] == [26.0, 36.0]
    assert point["distance"] == pytest.approx(np.hypot(26 - point["handle_final"][0], 36 - point["handle_final"][1]))
    assert rep["steps"] <= 4 and len(rep["trajectory"]) == rep["steps"] + 1
    with Image.open(gif) as anim:
        assert anim.n_frames == rep["steps"] + 1 and anim.size[0] >= 256
    assert not list(tmp_path.glob(".*part*"))  # atomic writes leave no temporaries


def test_bad_inputs_fail_in_one_line(stylegan2_fixtures, tmp_path, capsys):
    model = stylegan2_fixtures / PICKLE
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps({"points": [{"handle": [70, 3], "target": [3, 3]}]}))
    grey = tmp_path / "grey.png"
    Image.fromarray(np.full((64, 64), 128, np.uint8)).save(grey)
    small = tmp_path / "small.png"
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(small)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"points": [{"handle": [3, 3], "target": [5, 5]}]}))
    cases = [
        (["--points", outside], "outside the 64x64 image"),
        (["--points", good, "--mask", grey], "not binary"),
        (["--points", good, "--mask", small], "mask is 32x32"),
        (["--points", good, "--steps", -1], "--steps"),
        (["--points", good, "--latent-prior"], "drop --latent-prior"),  # StyleGAN2: W+ is not Gaussian
    ]
    for extra, match in cases:
        code = run_cli("--model", model, "-o", tmp_path / "x.png", "--device", "cpu", *extra)
        err = capsys.readouterr().err.strip()
        assert code == 2 and match in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x.png").exists()
    code = run_cli("--model", model, "--points", good, "-o", good, "--device", "cpu")
    assert code == 2 and "also an input" in capsys.readouterr().err


def test_latent_prior_on_the_demo_model_is_recorded_and_changes_the_drag(tmp_path):
    pts = tmp_path / "pts.json"
    pts.write_text(json.dumps({"points": [{"handle": [30, 40], "target": [38, 40]}]}))
    runs = {}
    for name, steps, extra in (("start", 0, []), ("free", 12, []), ("prior", 12, ["--latent-prior"])):
        out, report = tmp_path / f"{name}.png", tmp_path / f"{name}.json"
        code = run_cli("--model", "demo-face-64", "--seed", 3, "--points", pts, "-o", out, "--steps", steps,
                       "--device", "cpu", "--report", report, *extra)
        assert code == 0
        runs[name] = (np.asarray(Image.open(out), np.int16), json.loads(report.read_text()))
    settings = runs["prior"][1]["settings"]
    assert settings["latent_shell"] is True and settings["max_latent_change"] == 0.5
    assert runs["free"][1]["settings"]["latent_shell"] is False
    # The prior keeps z on its shell and near its start: the same 12 steps change the image less.
    start = runs["start"][0]
    assert np.abs(runs["free"][0] - runs["prior"][0]).max() > 0
    assert 0 < np.abs(runs["prior"][0] - start).mean() < np.abs(runs["free"][0] - start).mean()
