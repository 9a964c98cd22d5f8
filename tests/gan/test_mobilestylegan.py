"""MobileStyleGAN from the random-face IR: parity with OpenVINO's outputs, W+, features, noise, cache, CLI."""
from __future__ import annotations

import importlib.metadata
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import cli
from pipeline.common import UserError
from pipeline.gan import package_models, registry
from pipeline.gan.interface import seeded_z
from pipeline.gan.loading import load_generator
from pipeline.gan.mobilestylegan import ir_conversion
from pipeline.gan.mobilestylegan.ir_weights import synthesis_state
from pipeline.gan.mobilestylegan.openvino_ir import read_ir
from pipeline.invert.noise import noise_buffer_names

GOLDEN = Path(__file__).parents[1] / "data" / "mobilestylegan" / "openvino-golden-excerpt.npz"
NAME = "mobilestylegan-ffhq-1024"
W_ATOL = 2e-5  # issue 13's targets
IMG_MAX_ATOL, IMG_MEAN_ATOL = 1e-3, 1e-4
SPOTS = {"eye": (440, 360), "mouth": (660, 480), "corner": (0, 0), "cheek": (560, 640)}


@pytest.fixture(scope="module")
def golden():
    with np.load(GOLDEN) as data:
        return {k: torch.from_numpy(data[k]) for k in data.files}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("mobilestylegan-home")


@pytest.fixture(autouse=True)
def isolated_cache(home, tmp_path, monkeypatch):
    monkeypatch.setenv(registry.HOME_ENV, str(home))
    monkeypatch.setattr(registry, "USER_CACHE", tmp_path / "user-cache")


@pytest.fixture(scope="module")
def G(home):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(registry.HOME_ENV, str(home))
        return load_generator(NAME, device="cpu")


def check_image(img: torch.Tensor, golden: dict, key: str) -> None:
    for spot, (y, x) in SPOTS.items():
        patch = img[:, :, y:y + 32, x:x + 32]
        assert (patch - golden[f"{key}_patch_{spot}"]).abs().max().item() <= IMG_MAX_ATOL, spot
    area = F.interpolate(img, size=(64, 64), mode="area")
    diff = (area - golden[f"{key}_area64"]).abs()
    assert diff.max().item() <= IMG_MAX_ATOL and diff.mean().item() <= IMG_MEAN_ATOL


def test_mapping_and_w_avg_match_openvino(G, golden):
    for seed in (0, 1):
        w = G.mapping(golden[f"z_seed{seed}"])
        assert w.shape == (1, 23, 512)
        assert (w[:, 0] - golden[f"w_seed{seed}"]).abs().max().item() <= W_ATOL
        assert torch.equal(w[:, 0], w[:, 22])
    assert (G.w_avg - golden["w_avg"][0]).abs().max().item() <= W_ATOL
    assert abs(G.w_avg.norm().item() - 4.1165) < 1e-3
    z = seeded_z(0, G.z_dim)  # RandomState(0), as `cli.py generate`
    assert torch.equal(z, golden["z_seed0"])
    ws = G.mapping(z, truncation_psi=0.7)
    assert (ws[:, 0] - golden["w_trunc07_seed0"]).abs().max().item() <= W_ATOL


@pytest.mark.parametrize("key", ["img1024_seed0", "img1024_seed1"])
def test_synthesis_matches_openvino(G, golden, key):
    seed = int(key[-1])
    with torch.no_grad():
        img = G.synthesis(golden[f"w_seed{seed}"][:, None].repeat(1, G.num_ws, 1))
    assert img.shape == (1, 3, 1024, 1024)
    check_image(img, golden, key)


def test_truncated_sample_matches_openvino(G, golden):
    with torch.no_grad():
        img = G(golden["z_seed0"], truncation_psi=0.7)
    check_image(img, golden, "img1024_trunc07_seed0")


def test_each_w_entry_reaches_only_its_own_layer(G, golden):
    ws = golden["w_seed0"][:, None].repeat(1, G.num_ws, 1).requires_grad_(True)
    feats = G.synthesis_features(ws, "b64")
    assert feats.shape == (1, 512, 64, 64)
    feats.square().mean().backward()
    reached = (ws.grad.abs().sum(-1) > 0)[0].tolist()
    # b4.conv1 and the three styles of b8..b64 (12 entries, 0-12) feed b64; nothing above is computed.
    assert reached == [True] * 13 + [False] * 10
    ws.grad = None
    G.synthesis(ws).mean().backward()
    assert bool((ws.grad.abs().sum(-1) > 0).all())


def test_feature_blocks_cover_every_hidden_resolution(G, golden):
    blocks = G.feature_blocks
    assert [(b.name, b.channels, b.resolution) for b in blocks] == [
        ("b4", 512, 4), ("b8", 512, 8), ("b16", 512, 16), ("b32", 512, 32), ("b64", 512, 64),
        ("b128", 256, 128), ("b256", 128, 256), ("b512", 64, 512)]
    ws = golden["w_seed1"][:, None].repeat(2, G.num_ws, 1)
    with torch.no_grad():
        for block in ("b4", "b128"):
            f = G.synthesis_features(ws, block)
            assert f.shape == (2, G.feature_block(block).channels, G.feature_block(block).resolution,
                               G.feature_block(block).resolution)
            assert torch.allclose(f[0], f[1], atol=1e-5)  # batch rows are independent
    with pytest.raises(ValueError, match="unknown feature block"):
        G.synthesis_features(ws, "b1024")


def test_noise_modes_and_buffers(G, golden):
    names = noise_buffer_names(G)
    assert len(names) == 15 and "synthesis.b4.conv1.noise.noise_const" in names
    ws = golden["w_seed0"][:, None].repeat(1, G.num_ws, 1)
    with torch.no_grad():
        const = G.synthesis_features(ws, "b256", noise_mode="const")
        none = G.synthesis_features(ws, "b256", noise_mode="none")
        rand_a = G.synthesis_features(ws, "b256", noise_mode="random")
        rand_b = G.synthesis_features(ws, "b256", noise_mode="random")
    assert torch.equal(const, G.synthesis_features(ws, "b256", noise_mode="const").detach())
    assert not torch.allclose(const, none) and not torch.allclose(rand_a, rand_b)
    # The noise only perturbs: the three modes render the same face.
    assert (const - none).abs().mean() < 0.1 * const.abs().mean()
    # strength x unit map is the export's baked map; the map has unit RMS.
    graph = read_ir(ir_conversion.package_ir_folder() / "SynthesisNetwork.xml")
    baked = next(graph.const(l.id) for l in graph.layers.values() if l.type == "Const" and l.name == "1531")
    layer = G.synthesis_net.b4.conv1.noise
    assert layer.noise_const.square().mean().sqrt().item() == pytest.approx(1.0, abs=1e-5)
    assert torch.allclose(layer.noise_strength * layer.noise_const, torch.from_numpy(baked[0, 0]), atol=1e-8)
    assert synthesis_state(graph, G.config)["synthesis.b4.conv1.noise.noise_const"].shape == (4, 4)


def test_conversion_is_cached_and_keyed_by_the_ir_files(G, home, monkeypatch):
    entry = registry.REGISTRY[NAME]
    path = Path(G.model_info["path"])
    # Converted into this test's cache, unless a conversion was already in the checkout's checkpoints/.
    assert path.parent in (home, registry.REPO_CHECKPOINTS)
    assert path.name == f"{NAME}.{entry.source_sha256[:16]}.safetensors"
    assert G.model_info["license"].startswith("non-commercial") and G.default_drag_lr == 4e-3
    assert registry.find_cached(entry) == path and registry.entry_for_file(path) is entry

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again although the cached file exists")

    monkeypatch.setattr(ir_conversion, "convert_ir", no_conversion)
    assert package_models.ensure_converted(entry) == path


def test_changed_or_missing_package_files_are_refused(G, tmp_path, monkeypatch):
    # A converted file of the pinned package is found by name, with no package and no hashing.
    monkeypatch.setattr(package_models, "package_ir_folder", lambda: pytest.fail("looked for the package"))
    assert package_models.ensure_converted(registry.REGISTRY[NAME]) == Path(G.model_info["path"])
    # With no conversion anywhere, the package's files are checked before converting.
    monkeypatch.setenv(registry.HOME_ENV, str(tmp_path / "empty-home"))
    monkeypatch.setattr(registry, "REPO_CHECKPOINTS", tmp_path / "no-checkpoints")
    src = ir_conversion.package_ir_folder()
    copy = tmp_path / "ir"
    shutil.copytree(src, copy)
    with open(copy / "SynthesisNetwork.bin", "r+b") as f:  # flip one weight byte
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setattr(package_models, "package_ir_folder", lambda: copy)
    with pytest.raises(UserError, match="do not match the registry's sha256.*pip install --no-deps random-face"):
        package_models.ensure_converted(registry.REGISTRY[NAME])

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(UserError, match=r"run 'pip install --no-deps random-face==2021\.7\.21\.1'"):
        ir_conversion.package_ir_folder()


def test_ir_reader_refuses_entities_and_unknown_weights(tmp_path):
    src = ir_conversion.package_ir_folder()
    xml = (src / "MappingNetwork.xml").read_text()
    bad = tmp_path / "MappingNetwork.xml"
    shutil.copy(src / "MappingNetwork.bin", tmp_path / "MappingNetwork.bin")
    bad.write_text(xml.replace("<net ", '<!DOCTYPE net [<!ENTITY x "y">]>\n<net ', 1))
    with pytest.raises(UserError, match="DOCTYPE"):
        read_ir(bad)
    # One more f32 constant than the network has: the conversion must not silently drop it.
    extra = ('<layer id="9999" name="stray" type="Const" version="opset1"><data element_type="f32" shape="1" '
             'offset="0" size="4"/><output><port id="0" precision="FP32"><dim>1</dim></port></output></layer>')
    bad.write_text(xml.replace("</layers>", extra + "</layers>", 1))
    from pipeline.gan.mobilestylegan import MobileStyleGANConfig
    from pipeline.gan.mobilestylegan.ir_weights import mapping_state

    with pytest.raises(UserError, match="constants"):
        mapping_state(read_ir(bad), MobileStyleGANConfig())


def test_cli_generate_writes_the_golden_image(G, golden, tmp_path, capsys):
    out = tmp_path / "seed0.png"
    assert cli.main(["-q", "generate", "--model", NAME, "--seed", "0", "--psi", "1", "--device", "cpu",
                     "-o", str(out)]) == 0
    with Image.open(out) as img:
        pixels = np.asarray(img).astype(np.int16)
    assert pixels.shape == (1024, 1024, 3)
    for spot, (y, x) in SPOTS.items():
        ref = golden[f"img1024_seed0_patch_{spot}"][0].permute(1, 2, 0).clamp(-1, 1)
        ref = ((ref + 1) * 127.5).round().numpy().astype(np.int16)
        assert np.abs(pixels[y:y + 32, x:x + 32] - ref).max() <= 1, spot
    record = json.loads((tmp_path / "seed0.png.json").read_text())
    assert record["model"]["name"] == NAME and record["model"]["license"].startswith("non-commercial")


def test_cli_weights_info_list_fetch_and_convert(G, tmp_path, capsys):
    assert cli.main(["-q", "weights", "info", NAME]) == 0
    out = capsys.readouterr().out
    for expected in ("mobilestylegan", "num_ws              23", "b256:128", "non-commercial", "random-face==2021.7.21.1"):
        assert expected in out
    assert cli.main(["-q", "weights", "list"]) == 0
    assert G.model_info["path"] in capsys.readouterr().out
    assert cli.main(["-q", "weights", "fetch", NAME]) == 0
    assert G.model_info["path"] in capsys.readouterr().out
    out_file = tmp_path / "msg.safetensors"
    assert cli.main(["-q", "weights", "convert", str(ir_conversion.package_ir_folder()), str(out_file)]) == 0
    again = load_generator(out_file, device="cpu")
    assert again.arch == "mobilestylegan" and again.model_info["name"] == NAME
    assert torch.equal(again.w_avg, G.w_avg)
