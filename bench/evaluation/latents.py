"""Seeded latents and their images, through the generator interface only (any LatentGenerator)."""
from __future__ import annotations

import numpy as np
import torch

from pipeline.common.image_tensors import tensors_to_images
from pipeline.gan import LatentGenerator, seeded_z


def seed_ws(G: LatentGenerator, seed: int, *, truncation_psi: float, device: torch.device) -> torch.Tensor:
    """ws [1, num_ws, w_dim] of seed (numpy RandomState z, as DragGAN), truncated."""
    with torch.no_grad():
        return G.mapping(seeded_z(seed, G.z_dim, device=device), truncation_psi=truncation_psi)


def render(G: LatentGenerator, ws: torch.Tensor, *, noise_mode: str) -> np.ndarray:
    """uint8 [N, H, W, 3] images of ws [N, num_ws, w_dim]."""
    with torch.no_grad():
        return tensors_to_images(G.synthesis(ws, noise_mode=noise_mode))  # synthesis: [N, 3, H, W] in about [-1, 1]


def perturb_ws(ws: torch.Tensor, other: torch.Tensor, *, strength: float, num_entries: int) -> torch.Tensor:
    """ws moved `strength` of the way towards `other` in its first num_entries W+ entries, the rest kept.

    ws, other: [1, num_ws, w_dim]; strength in [0, 1].
    """
    if ws.shape != other.shape or ws.ndim != 3:
        raise ValueError(f"ws and other must both be [1, num_ws, w_dim], got {list(ws.shape)} and {list(other.shape)}")
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"perturbation strength must be in [0, 1], got {strength}")
    if num_entries < 1:
        raise ValueError(f"num_entries must be >= 1, got {num_entries}")
    out = ws.clone()
    k = min(num_entries, ws.shape[1])
    out[:, :k] = ws[:, :k] + strength * (other[:, :k] - ws[:, :k])
    return out
