"""The DCGAN adapter (demo generator): interface contract, BatchNorm folding, the shipped checkpoint."""
from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from pipeline.gan.architectures import build_generator
from pipeline.gan.dcgan import DCGANConfig, DCGANGenerator, fold_tutorial_state_dict
from pipeline.gan.interface import seeded_z
from pipeline.gan.loading import load_generator
from pipeline.gan.safetensors_format import read_generator_file

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
SHIPPED = CHECKPOINTS / "demo-face-64.safetensors"
TINY = DCGANConfig(z_dim=8, ngf=4)


def tutorial_generator(config: DCGANConfig) -> nn.Sequential:
    """The PyTorch DCGAN tutorial layout (main.0 ... main.13), with non-trivial BatchNorm statistics."""
    ngf, nz = config.ngf, config.z_dim
    layers: list[nn.Module] = []
    chans = [nz, ngf * 8, ngf * 4, ngf * 2, ngf]
    for i, (cin, cout) in enumerate(zip(chans[:-1], chans[1:])):
        stride, pad = (1, 0) if i == 0 else (2, 1)
        layers += [nn.ConvTranspose2d(cin, cout, 4, stride, pad, bias=False), nn.BatchNorm2d(cout), nn.ReLU(True)]
    layers += [nn.ConvTranspose2d(ngf, config.img_channels, 4, 2, 1, bias=False), nn.Tanh()]
    net = nn.Sequential(*layers)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.ConvTranspose2d):
                m.weight.normal_(0, 0.3, generator=gen)
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.normal_(0, 0.5, generator=gen)
                m.running_mean.normal_(0, 0.5, generator=gen)
                m.running_var.uniform_(0.2, 3.0, generator=gen)
    return net.eval()


def tiny_generator() -> DCGANGenerator:
    torch.manual_seed(0)
    G = DCGANGenerator(TINY)
    G.load_state_dict(fold_tutorial_state_dict({"main." + k: v for k, v in tutorial_generator(TINY).state_dict().items()}, TINY))
    return G


def load_shipped() -> tuple[DCGANGenerator, dict]:
    arch, config, state_dict, metadata = read_generator_file(SHIPPED)
    G = build_generator(arch, config)
    G.load_state_dict(state_dict, strict=True)
    return G.eval(), metadata


# ---- config ---------------------------------------------------------------------------------
def test_config_round_trips_and_rejects_bad_values():
    assert DCGANConfig.from_dict(TINY.to_dict()) == TINY
    assert isinstance(build_generator("dcgan", TINY.to_dict()), DCGANGenerator)
    with pytest.raises(ValueError, match="unknown DCGAN config keys"):
        DCGANConfig.from_dict({**TINY.to_dict(), "w_dim": 8})
    with pytest.raises(ValueError, match="64 px"):
        DCGANConfig(img_resolution=128)


# ---- folding --------------------------------------------------------------------------------
def test_folded_batchnorm_matches_tutorial_network_in_eval_mode():
    net = tutorial_generator(TINY)
    G = DCGANGenerator(TINY)
    G.load_state_dict(fold_tutorial_state_dict({"main." + k: v for k, v in net.state_dict().items()}, TINY), strict=True)
    z = torch.randn(5, TINY.z_dim, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = net(z[:, :, None, None])
        G.train()  # no BatchNorm left: the mode must not matter
        got_train = G(z)
        G.eval()
        got_eval = G(z)
    assert expected.std() > 0.1  # the reference is not saturated or constant
    torch.testing.assert_close(got_eval, expected, atol=1e-5, rtol=0)
    assert torch.equal(got_train, got_eval)


def test_fold_rejects_foreign_state_dicts():
    sd = {"main." + k: v for k, v in tutorial_generator(TINY).state_dict().items()}
    with pytest.raises(ValueError, match="main.7.running_var"):
        fold_tutorial_state_dict({k: v for k, v in sd.items() if k != "main.7.running_var"}, TINY)
    with pytest.raises(ValueError, match="do not fit"):
        fold_tutorial_state_dict(sd, DCGANConfig(z_dim=8, ngf=8))


# ---- interface contract (tiny model) --------------------------------------------------------
def test_mapping_is_z_as_single_entry_with_truncation_towards_zero():
    G = tiny_generator()
    z = torch.randn(3, TINY.z_dim)
    assert G.num_ws == 1 and G.w_dim == G.z_dim == TINY.z_dim
    torch.testing.assert_close(G.mapping(z), z[:, None])
    torch.testing.assert_close(G.mapping(z, truncation_psi=0.5), 0.5 * z[:, None])
    torch.testing.assert_close(G.mapping(z, truncation_psi=0.5, truncation_cutoff=0), z[:, None])
    assert torch.equal(G.w_avg, torch.zeros(TINY.z_dim))
    with torch.no_grad():
        img = G(z, truncation_psi=0.0)
    assert torch.equal(img[0], img[1]) and torch.equal(img[0], img[2])
    with pytest.raises(ValueError, match=r"z must be \[N, 8\]"):
        G.mapping(torch.randn(3, 9))


def test_synthesis_and_features_shapes_and_ranges():
    G = tiny_generator()
    ws = G.mapping(torch.randn(2, TINY.z_dim))
    with torch.no_grad():
        img = G.synthesis(ws, noise_mode="random")
    assert img.shape == (2, 3, 64, 64) and img.dtype == torch.float32
    assert img.abs().max() <= 1 and img.std() > 0.01
    assert [b.name for b in G.feature_blocks] == ["l1", "l2", "l3", "l4"]
    for block in G.feature_blocks:
        feat = G.synthesis_features(ws, block.name)
        assert feat.shape == (2, block.channels, block.resolution, block.resolution)
        assert feat.min() >= 0  # taken after the ReLU
    with pytest.raises(ValueError, match="unknown feature block"):
        G.synthesis_features(ws, "b16")
    with pytest.raises(ValueError, match="noise_mode"):
        G.synthesis(ws, noise_mode="fixed")
    with pytest.raises(ValueError, match=r"ws must be \[N, 1, 8\]"):
        G.synthesis(ws.repeat(1, 2, 1))


def test_features_stop_early_and_are_a_prefix_of_synthesis():
    G = tiny_generator()
    ws = G.mapping(torch.randn(2, TINY.z_dim))
    called = []
    hooks = [getattr(G, n).register_forward_hook(lambda *_, n=n: called.append(n)) for n in ("l3", "l4", "to_rgb")]
    G.synthesis_features(ws, "l2")
    assert called == []
    l4 = G.synthesis_features(ws, "l4")
    assert called == ["l3", "l4"]
    for h in hooks:
        h.remove()
    torch.testing.assert_close(torch.tanh(G.to_rgb(l4)), G.synthesis(ws), atol=0, rtol=0)


def test_gradients_reach_the_latent_and_the_weights():
    G = tiny_generator()
    ws = G.mapping(torch.randn(1, TINY.z_dim)).requires_grad_(True)
    G.synthesis_features(ws, "l3").square().mean().backward()
    assert ws.grad is not None and ws.grad.abs().sum() > 0
    assert G.l1.weight.grad is not None and G.l4.weight.grad is None


# ---- the shipped checkpoint -----------------------------------------------------------------
def test_demo_model_is_the_shipped_file_with_its_crop_template():
    G = load_generator("demo-face-64", device="cpu")
    assert isinstance(G, DCGANGenerator) and Path(G.model_info["path"]).resolve() == SHIPPED
    assert G.model_info["crop_convention"] == "template"
    _, metadata = load_shipped()
    np.testing.assert_allclose(G.model_info["landmark_template"], json.loads(metadata["landmark_template"]))


def test_shipped_checkpoint_loads_and_draws_distinct_faces():
    assert SHIPPED.stat().st_size < 20 * 2**20
    G, metadata = load_shipped()
    assert G.img_resolution == 64 and G.z_dim == 100
    z = torch.cat([seeded_z(s, G.z_dim) for s in range(4)])
    with torch.no_grad():
        img = G(z, truncation_psi=0.7)
        l3 = G.synthesis_features(G.mapping(z), "l3")
    assert img.shape == (4, 3, 64, 64) and img.abs().max() <= 1
    assert (img[1:] - img[:1]).abs().mean() > 0.05  # different seeds, different faces
    assert l3.shape == (4, 128, 16, 16)
    assert metadata["name"] == "demo-face-64" and metadata["crop_convention"] == "template"
    assert "DigiFace-1M" in metadata["license"] and "research" in metadata["license"]


def test_shipped_landmark_template_is_a_plausible_face_layout():
    _, metadata = load_shipped()
    tpl = np.array(json.loads(metadata["landmark_template"]))
    assert tpl.shape == (68, 2) and np.all(np.isfinite(tpl))
    human = json.loads((CHECKPOINTS / "demo-face-64.landmarks.json").read_text())
    np.testing.assert_allclose(tpl, np.array(human["template"]))
    assert np.all(tpl > -0.1) and np.all(tpl < 1.1)  # a tight crop: the chin may sit on the edge
    eye_left, eye_right = tpl[36:42].mean(0), tpl[42:48].mean(0)
    mouth, nose_tip = tpl[48:60].mean(0), tpl[30]
    assert eye_left[0] < nose_tip[0] < eye_right[0]  # x right
    assert max(eye_left[1], eye_right[1]) < nose_tip[1] < mouth[1]  # y down
    assert abs((eye_left[0] + eye_right[0]) / 2 - 0.5) < 0.1  # roughly centred


def test_shipped_checkpoint_reproduces_the_teacher():
    pytest.importorskip("gan_face_generate")  # tools-only dependency: this test alone needs it
    from gan_face_generate.models import Generator

    weights = Path(list(importlib.util.find_spec("gan_face_generate").submodule_search_locations)[0]) / "weights.tar"
    teacher = Generator(1, 3, 100, 64)
    teacher.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True)["netG_state_dict"])
    teacher.eval()
    G, metadata = load_shipped()
    if json.loads(metadata["source"])["sha256"] != hashlib.sha256(weights.read_bytes()).hexdigest():
        pytest.skip("the installed gan-face-generate carries other weights than the shipped model was made from")
    z = torch.randn(8, 100, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = teacher(z[:, :, None, None])
        G.train()  # inversion may leave the module in train mode: still the teacher's eval output
        got = G(z)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
