"""Parity with NVIDIA's StyleGAN2: the reference fixture's golden tensors, at its tolerances."""
from __future__ import annotations

import json

import pytest
import torch

from pipeline.gan.stylegan2 import StyleGAN2Config, StyleGAN2Generator

WS_ATOL = 2e-5  # ws and styles (fixture README: worst float32 rounding seen 2.6e-6)
IMG_ATOL = 1e-4  # images and block features (worst seen 8.5e-6)


def build(fixtures, **overrides) -> StyleGAN2Generator:
    kw = json.loads((fixtures / "generator_config.json").read_text())["constructor_kwargs"]
    args = dict(
        z_dim=kw["z_dim"], w_dim=kw["w_dim"], img_resolution=kw["img_resolution"],
        img_channels=kw["img_channels"], mapping_layers=kw["mapping_kwargs"]["num_layers"],
        channel_base=kw["channel_base"], channel_max=kw["channel_max"],
        num_fp16_res=kw["num_fp16_res"], conv_clamp=kw["conv_clamp"],
    )
    G = StyleGAN2Generator(StyleGAN2Config(**{**args, **overrides}))
    state = torch.load(fixtures / "generator_state_dict.pt", weights_only=True)
    G.load_state_dict(state, strict=True)
    return G.eval().requires_grad_(False)


@pytest.fixture(scope="module")
def golden(stylegan2_fixtures):
    return torch.load(stylegan2_fixtures / "golden.pt", weights_only=True)


@pytest.fixture(scope="module")
def G(stylegan2_fixtures):
    return build(stylegan2_fixtures)


def close(actual, expected, atol):
    diff = (actual - expected).abs().max().item()
    assert diff <= atol, f"max abs diff {diff:.3g} > {atol}"


def test_state_dict_names_and_order_match_official(G, stylegan2_fixtures):
    state = torch.load(stylegan2_fixtures / "generator_state_dict.pt", weights_only=True)
    assert list(G.state_dict().keys()) == list(state.keys())
    assert G.num_ws == 10


@pytest.mark.parametrize("key,psi,cutoff", [("ws_psi1", 1.0, None), ("ws_psi07", 0.7, None), ("ws_psi07_cutoff4", 0.7, 4)])
def test_mapping(G, golden, key, psi, cutoff):
    close(G.mapping(golden["z"], truncation_psi=psi, truncation_cutoff=cutoff), golden[key], WS_ATOL)


@pytest.mark.parametrize(
    "ws_key,mode,img_key",
    [("ws_psi07", "const", "img_const"), ("ws_psi07", "none", "img_none"),
     ("ws_psi1", "const", "img_psi1_const"), ("ws_plus", "const", "img_plus_const")],
)
def test_synthesis(G, golden, ws_key, mode, img_key):
    close(G.synthesis(golden[ws_key], noise_mode=mode), golden[img_key], IMG_ATOL)


def test_full_forward_from_z(G, golden):
    close(G(golden["z"], truncation_psi=0.7), golden["img_const"], IMG_ATOL)


def test_styles(G, golden):
    net = G.synthesis_net
    for res, block_ws in net._block_ws(golden["ws_psi07"]):
        block = getattr(net, f"b{res}")
        layers = (["conv0"] if block.num_conv == 2 else []) + ["conv1"]
        for i, name in enumerate(layers):
            close(getattr(block, name).affine(block_ws[:, i]), golden[f"styles.b{res}.{name}"], WS_ATOL)
        close(block.torgb.affine(block_ws[:, block.num_conv]), golden[f"styles.b{res}.torgb"], WS_ATOL)
        close(block_ws, golden[f"block.b{res}.ws"], 0)


@pytest.mark.parametrize("res", [4, 8, 16, 32, 64])
def test_block_features_stop_early(G, golden, res):
    feats = G.synthesis_features(golden["ws_psi07"][:1], f"b{res}")
    close(feats, golden[f"block.b{res}.x"], IMG_ATOL)


def test_conv_clamp(stylegan2_fixtures, golden):
    G2 = build(stylegan2_fixtures, conv_clamp=2.0)
    close(G2.synthesis(golden["ws_psi07"]), golden["img_const_convclamp2"], IMG_ATOL)


def test_random_noise_changes_between_calls(G, golden):
    ws = golden["ws_psi07"][:2]
    a, b = G.synthesis(ws, noise_mode="random"), G.synthesis(ws, noise_mode="random")
    assert a.shape == (2, 3, 64, 64)
    assert (a - b).abs().max() > 1e-3


def test_bad_ws_shape_is_refused(G):
    with pytest.raises(ValueError, match=r"ws must be \[N, 10, 64\]"):
        G.synthesis(torch.zeros(1, 9, 64))
