"""Tiny seeded generators for the drag tests."""
from __future__ import annotations

import json

import pytest
import torch

from pipeline.gan import seeded_z
from pipeline.gan.stylegan2 import StyleGAN2Config, StyleGAN2Generator

CPU = torch.device("cpu")


@pytest.fixture(scope="session")
def tiny_ws(tiny_G):
    with torch.no_grad():
        return tiny_G.mapping(seeded_z(3, tiny_G.z_dim), truncation_psi=0.7)


@pytest.fixture(scope="session")
def fixture_G(stylegan2_fixtures):
    """The StyleGAN2 reference fixture (64 px, 10 ws): NVIDIA-parity weights, smooth enough to drag."""
    kw = json.loads((stylegan2_fixtures / "generator_config.json").read_text())["constructor_kwargs"]
    cfg = StyleGAN2Config(
        z_dim=kw["z_dim"], w_dim=kw["w_dim"], img_resolution=kw["img_resolution"],
        mapping_layers=kw["mapping_kwargs"]["num_layers"], channel_base=kw["channel_base"],
        channel_max=kw["channel_max"], conv_clamp=kw["conv_clamp"],
    )
    G = StyleGAN2Generator(cfg)
    G.load_state_dict(torch.load(stylegan2_fixtures / "generator_state_dict.pt", weights_only=True), strict=True)
    return G.eval().requires_grad_(False)
