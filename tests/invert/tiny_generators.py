"""Tiny seeded generators for inversion tests (32 px StyleGAN2 with live noise, 64 px DCGAN)."""
from __future__ import annotations

import torch

from pipeline.gan import build_generator, seeded_z
from pipeline.gan.stylegan2 import StyleGAN2Config


def tiny_stylegan2(seed: int = 0):
    """32 px, w_dim 16, 8 ws; noise strengths non-zero so the noise maps matter; images about [-1, 1]."""
    cfg = StyleGAN2Config(z_dim=16, w_dim=16, img_resolution=32, mapping_layers=2, channel_base=256, channel_max=32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        G = build_generator("stylegan2", cfg.to_dict())
        with torch.no_grad():
            for name, p in G.named_parameters():
                if name.endswith("noise_strength"):
                    p.fill_(0.1)
                if ".torgb." in name:
                    p.mul_(0.5)  # images within about [-1, 1], like a trained model's
            # A trained-looking w_avg (the loader keeps the checkpoint's; a fresh module has zeros).
            G.w_avg.copy_(G.mapping(torch.randn(500, cfg.z_dim))[:, 0].mean(0))
    return G.eval().requires_grad_(False)


def tiny_dcgan(seed: int = 0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        G = build_generator("dcgan", {"z_dim": 8, "ngf": 4})
    return G.eval().requires_grad_(False)


def make_known_target(G, seed: int = 1, psi: float = 0.7) -> tuple[torch.Tensor, torch.Tensor]:
    """(ws [1, num_ws, w_dim], image [1, 3, H, W] clipped to [-1, 1]) from a seeded z."""
    with torch.no_grad():
        ws = G.mapping(seeded_z(seed, G.z_dim), truncation_psi=psi)
        return ws, G.synthesis(ws).clamp(-1, 1)
