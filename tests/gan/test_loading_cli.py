"""load_generator on every supported input, against NVIDIA's golden outputs; the weights/generate CLI."""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

import cli
from pipeline.common import UserError
from pipeline.gan import registry
from pipeline.gan.loading import DEFAULT_MODEL, load_generator, resolve_model_arg, sniff_format

IMG_ATOL = 1e-4  # fixture README: worst float32 rounding seen 8.5e-6
PROBE_ATOL = 5e-3  # img_clamp_probe_const (values up to ~470): worst rounding seen 4.9e-4
PICKLES = ["stylegan3-G_ema.pkl", "ada-G_ema.pkl", "numpy1-G_ema.pkl", "malicious-exec.pkl"]


@pytest.fixture(scope="module")
def golden(stylegan2_fixtures):
    return torch.load(stylegan2_fixtures / "golden.pt", weights_only=True)


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path, monkeypatch):
    """Registry lookups see only this test's folders, never a real download."""
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setattr(registry, "USER_CACHE", tmp_path / "user-cache")
    return tmp_path / "home"


def max_diff(a, b) -> float:
    return (a - b).abs().max().item()


@pytest.mark.parametrize("name", PICKLES)
def test_pickles_reproduce_golden_images(stylegan2_fixtures, golden, name):
    path = stylegan2_fixtures / name
    G = load_generator(path, device="cpu")
    assert not G.training and not any(p.requires_grad for p in G.parameters())
    # Sample 0 only, to keep the suite fast: the four state dicts are already proven bitwise equal
    # in test_network_pickle, and batch 1 vs 4 differs by 6.4e-6 at most (fixture README).
    with torch.no_grad():
        assert max_diff(G.synthesis(golden["ws_psi07"][:1], noise_mode="const"), golden["img_const"][:1]) <= IMG_ATOL
        assert max_diff(G(golden["z"][:1], truncation_psi=0.7), golden["img_const"][:1]) <= IMG_ATOL
    info = G.model_info
    assert info["format"] == "network-pickle" and info["name"] == path.stem
    assert info["flavour"] == ("stylegan2-ada" if name.startswith("ada") else "stylegan3-repo")
    assert info["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert info["crop_convention"] == "ffhq" and info["landmark_template"] is None
    assert G.default_drag_lr == 1e-3


def test_defaulted_clamp_pickle_reproduces_its_golden(stylegan2_fixtures):
    gold = torch.load(stylegan2_fixtures / "stylegan3-defaults-golden.pt", weights_only=True)
    G = load_generator(stylegan2_fixtures / "stylegan3-defaults-G_ema.pkl", device="cpu")
    assert G.config.conv_clamp == 256 and G.config.num_fp16_res == 4
    with torch.no_grad():
        assert max_diff(G.synthesis(gold["ws_psi07"][:1]), gold["img_const"][:1]) <= IMG_ATOL
        assert max_diff(G.synthesis(gold["ws_plus"][:2]), gold["img_plus_const"][:2]) <= IMG_ATOL
        assert max_diff(G.synthesis(gold["ws_clamp_probe"]), gold["img_clamp_probe_const"]) <= PROBE_ATOL


def test_format_is_sniffed_from_content_not_extension(stylegan2_fixtures, golden, tmp_path):
    odd = tmp_path / "weights.bin"
    shutil.copy(stylegan2_fixtures / "stylegan3-G_ema.pkl", odd)
    assert sniff_format(odd) == "network-pickle"
    converted = tmp_path / "converted.pkl"  # our safetensors under a misleading name
    assert cli.main(["-q", "weights", "convert", str(odd), str(converted)]) == 0
    assert sniff_format(converted) == "safetensors"
    G = load_generator(converted, device="cpu")
    assert G.model_info["format"] == "safetensors" and G.model_info["flavour"] == "stylegan3-repo"
    with torch.no_grad():
        assert max_diff(G.synthesis(golden["ws_psi07"][:1]), golden["img_const"][:1]) <= IMG_ATOL

    zipped = tmp_path / "model.pt"
    with zipfile.ZipFile(zipped, "w") as z:
        z.writestr("archive/data.pkl", b"x")
    with pytest.raises(UserError, match="torch.save"):
        load_generator(zipped, device="cpu")
    (tmp_path / "junk.pkl").write_bytes(b"hello")
    with pytest.raises(UserError, match="neither"):
        load_generator(tmp_path / "junk.pkl", device="cpu")


def test_registry_names_resolve_to_the_cache(stylegan2_fixtures, isolated_cache):
    entry = registry.REGISTRY["stylegan2-ffhq-512x512"]
    with pytest.raises(UserError, match=f"python cli.py weights fetch {entry.name}") as info:
        load_generator(entry.name, device="cpu")
    assert str(isolated_cache / entry.filename) in str(info.value)
    assert registry.cache_dir() == isolated_cache
    # A file placed by hand under the registry's file name is found and gets the entry's settings.
    isolated_cache.mkdir()
    shutil.copy(stylegan2_fixtures / "stylegan3-G_ema.pkl", isolated_cache / entry.filename)
    G = load_generator(entry.name, device="cpu")
    assert G.model_info["name"] == entry.name and G.default_drag_lr == 2e-3
    with pytest.raises(UserError, match="weights list"):
        load_generator("no-such-model", device="cpu")


def test_registry_entries_are_consistent():
    default = registry.REGISTRY[DEFAULT_MODEL]
    assert default.from_package and default.resolution == 1024 and default.license.startswith("non-commercial")
    assert registry.REGISTRY["demo-face-64"].bundled and registry.REGISTRY["demo-face-64"].resolution == 64
    for entry in registry.REGISTRY.values():
        assert entry.sha256 is None or len(entry.sha256) == 64
        if entry.bundled:
            continue  # the demo model's rate is measured, not the paper's (see registry.py)
        wants_2e3 = entry.category in ("face", "cat", "car")
        if not entry.from_package:  # the package model's rate is measured (see registry.py)
            assert entry.drag_lr == (2e-3 if wants_2e3 else 1e-3), entry.name
        assert entry.from_package or entry.url.startswith("https://")
        assert not entry.from_package or len(entry.source_sha256) == 64


def test_resolve_model_arg_announces_the_default_model(caplog):
    with caplog.at_level(logging.INFO, logger="pipeline.gan.loading"):
        assert resolve_model_arg(None) == DEFAULT_MODEL == "mobilestylegan-ffhq-1024"
        assert resolve_model_arg("my.pkl") == "my.pkl"
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 1 and "non-commercial" in messages[0]


def test_cli_convert_info_generate(stylegan2_fixtures, tmp_path, capsys):
    pkl = stylegan2_fixtures / "ada-G_ema.pkl"
    converted = tmp_path / "ada.safetensors"
    assert cli.main(["-q", "weights", "convert", str(pkl), str(converted)]) == 0
    capsys.readouterr()

    assert cli.main(["-q", "weights", "info", str(converted)]) == 0
    out = capsys.readouterr().out
    for expected in ("num_ws              10", "b64:64", "1,272,408", "safetensors (stylegan2-ada)",
                     hashlib.sha256(converted.read_bytes()).hexdigest()):
        assert expected in out

    images = {}
    for source in (pkl, converted):
        png = tmp_path / f"{source.suffix[1:]}.png"
        args = ["-q", "generate", "--model", str(source), "--seed", "42", "--psi", "0.7", "--device", "cpu", "-o", str(png)]
        assert cli.main(args) == 0
        with Image.open(png) as img:
            assert img.size == (64, 64) and img.mode == "RGB"
            images[source.suffix] = np.asarray(img)
        record = json.loads((tmp_path / f"{png.name}.json").read_text())
        assert record["seed"] == 42 and record["model"]["path"] == str(source)
    assert np.array_equal(images[".pkl"], images[".safetensors"])
    assert images[".pkl"].std() > 1  # an image, not a constant


def test_cli_convert_never_overwrites_its_input(stylegan2_fixtures, tmp_path, capsys):
    src = tmp_path / "g.pkl"
    shutil.copy(stylegan2_fixtures / "stylegan3-G_ema.pkl", src)
    before = src.read_bytes()
    assert cli.main(["-q", "weights", "convert", str(src), str(tmp_path / "." / "g.pkl")]) == 2
    assert "is the input file" in capsys.readouterr().err
    assert src.read_bytes() == before


def test_cli_list_and_refusals(stylegan2_fixtures, tmp_path, capsys):
    assert cli.main(["-q", "weights", "list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in registry.REGISTRY)
    assert cli.main(["-q", "weights", "info", str(stylegan2_fixtures / "malicious-global.pkl")]) == 2
    assert "'os.system'" in capsys.readouterr().err
    assert cli.main(["-q", "weights", "fetch", "no-such-model"]) == 2
