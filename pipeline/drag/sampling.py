"""Feature samples at sub-pixel image coordinates, read straight from the low-resolution map.

Pixel convention (the one `F.interpolate(..., mode='bilinear', align_corners=False)` uses, which
is how the official code resizes F to the image): image pixel (x, y) has its centre at
((x + 0.5) / W, (y + 0.5) / H) of the image extent, and so has feature pixel (i, j) of an h x w
map at ((i + 0.5) / w, (j + 0.5) / h). `grid_sample(align_corners=False)` uses the same extent
convention, and its 'border' padding clamps exactly as `interpolate` does at the edges; so a
sample at an integer image pixel equals that pixel of the upsampled map, without ever building
the upsampled map (tests/drag/test_sampling.py checks the equality).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def pixels_to_grid(xy: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """xy [..., 2] image px (x, y) -> grid_sample coordinates [..., 2] in [-1, 1] (pixel edges)."""
    width, height = image_size
    scale = xy.new_tensor([2.0 / width, 2.0 / height])
    return (xy + 0.5) * scale - 1.0


def sample_features(feats: torch.Tensor, xy: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """Bilinear samples of feats [1, C, h, w] at xy [..., 2] (image px) -> [..., C].

    Differentiable with respect to `feats`; coordinates past the outermost pixel centres are
    clamped to the border, as the bilinear upsampling clamps.
    """
    if feats.ndim != 4 or feats.shape[0] != 1:
        raise ValueError(f"feats must be [1, C, h, w], got {list(feats.shape)}")
    lead = xy.shape[:-1]
    grid = pixels_to_grid(xy.reshape(1, 1, -1, 2).to(feats.dtype), image_size)
    out = F.grid_sample(feats, grid, mode="bilinear", padding_mode="border", align_corners=False)  # [1, C, 1, P]
    return out[0, :, 0].t().reshape(*lead, feats.shape[1])
