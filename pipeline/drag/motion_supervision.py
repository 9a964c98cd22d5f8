"""The drag losses: motion supervision around each handle, and the fixed-region term of a mask.

Both are evaluated on the feature map at its own resolution: motion supervision samples F at
the few disc points it needs (see sampling.py), and the mask is area-downsampled to the
feature map instead of the feature map being upsampled to the mask, so neither term scales
with the image area.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .sampling import sample_features


def disc_offsets(radius: float, *, device: torch.device | None = None) -> torch.Tensor:
    """[M, 2] integer (dx, dy) with sqrt(dx^2 + dy^2) < radius (the official strict disc)."""
    k = int(math.ceil(radius))
    axis = torch.arange(-k, k + 1, device=device, dtype=torch.float32)
    dy, dx = torch.meshgrid(axis, axis, indexing="ij")
    offsets = torch.stack([dx.reshape(-1), dy.reshape(-1)], dim=1)
    return offsets[offsets.norm(dim=1) < radius]


def motion_loss(
    feats: torch.Tensor,  # [1, C, h, w] current features, with grad
    handles: torch.Tensor,  # [N, 2] image px (x, y); only handles that should move
    targets: torch.Tensor,  # [N, 2] image px
    *,
    radius: float,  # r1, image px
    image_size: tuple[int, int],  # (W, H)
) -> torch.Tensor:
    """sum over handles of mean |F(q + d) - F(q).detach()| over the disc q and the channels.

    d is the unit step (image px) from the handle towards its target. The unshifted side is
    detached, so the gradient pulls the features one pixel further along d to look like the
    current ones: the content moves towards the target. Disc points outside the image are left
    out, as the official code's pixel grid does.
    """
    width, height = image_size
    offsets = disc_offsets(radius, device=handles.device)  # [M, 2]
    m = offsets.shape[0]
    direction = targets - handles
    unit = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-7)  # [N, 2]
    q = handles[:, None, :] + offsets[None]  # [N, M, 2]
    valid = ((q[..., 0] >= 0) & (q[..., 0] <= width - 1) & (q[..., 1] >= 0) & (q[..., 1] <= height - 1))
    points = torch.cat([q, q + unit[:, None, :]], dim=1)  # [N, 2M, 2]
    sampled = sample_features(feats, points, image_size)  # [N, 2M, C]
    here, shifted = sampled[:, :m].detach(), sampled[:, m:]
    per_point = (shifted - here).abs().mean(dim=-1)  # [N, M]
    valid = valid.to(per_point.dtype)
    per_handle = (per_point * valid).sum(dim=1) / valid.sum(dim=1).clamp_min(1.0)
    return per_handle.sum()


def fixed_region_weight(mask: torch.Tensor, feature_size: tuple[int, int]) -> torch.Tensor:
    """mask [H, W] (1 = flexible) -> [1, 1, h, w] fraction of each feature pixel that must stay."""
    flexible = F.interpolate(mask[None, None].float(), size=feature_size, mode="area")
    return 1.0 - flexible


def fixed_region_loss(feats: torch.Tensor, feats0: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """mean |F - F0| over channels and feature pixels, weighted by the fixed fraction [1, 1, h, w].

    The official term is the same mean taken on the upsampled maps (zeros included in the mean).
    """
    return ((feats - feats0).abs() * weight).mean()
