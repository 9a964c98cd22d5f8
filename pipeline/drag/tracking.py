"""Point tracking: each handle moves to the nearest-feature candidate in a window around it.

The reference feature of a handle is fixed at the start of the drag (F0 at the user's point);
every step searches a square window of half-width r2 (image px) on a grid of `step` px centred
on the current handle (rounded to that grid), using the current features F. Candidates outside
the image are never chosen: the window is clipped at the borders as in the official code.
"""
from __future__ import annotations

import math

import torch

from .sampling import sample_features


def search_offsets(radius: float, step: float, *, device: torch.device | None = None) -> torch.Tensor:
    """[K, 2] (dx, dy) offsets on a `step` px grid with |dx|, |dy| <= radius, row-major from top-left."""
    k = int(math.floor(radius / step + 1e-9))
    axis = torch.arange(-k, k + 1, device=device, dtype=torch.float32) * step
    dy, dx = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([dx.reshape(-1), dy.reshape(-1)], dim=1)


@torch.no_grad()
def track_points(
    feats: torch.Tensor,  # [1, C, h, w] current features
    references: torch.Tensor,  # [N, C] features of the handles at the start
    handles: torch.Tensor,  # [N, 2] current handles, image px (x, y)
    *,
    radius: float,  # search half-width, image px
    step: float,  # candidate spacing, image px
    image_size: tuple[int, int],  # (W, H)
    norm: str,  # 'l1' or 'l2' over channels
    band: float = 0.0,  # image px; > 0: only candidates this close to the line start -> target
    lines: tuple[torch.Tensor, torch.Tensor] | None = None,  # ([N, 2] start handles, [N, 2] targets)
    patch: torch.Tensor | None = None,  # [P, 2] px offsets of a patch descriptor; references then [N, P, C]
) -> torch.Tensor:
    """-> [N, 2] new handle positions, image px, on the `step` grid.

    With a band, candidates farther than `band` from the straight line through each handle's start
    and its target are left out: on a self-similar contour (a jaw line moved inwards) the
    nearest feature in the square window often lies further along the contour, and the handle
    then slides along it instead of following the drag.
    """
    width, height = image_size
    offsets = search_offsets(radius, step, device=handles.device)  # [K, 2]
    centres = torch.round(handles / step) * step
    candidates = centres[:, None, :] + offsets[None]  # [N, K, 2]
    inside = (
        (candidates[..., 0] >= 0) & (candidates[..., 0] <= width - 1)
        & (candidates[..., 1] >= 0) & (candidates[..., 1] <= height - 1)
    )
    if patch is None:
        sampled = sample_features(feats.detach(), candidates, image_size)  # [N, K, C]
        diff = sampled - references[:, None, :].to(sampled.dtype)
    else:
        sampled = sample_features(feats.detach(), candidates[:, :, None, :] + patch, image_size)  # [N, K, P, C]
        diff = (sampled - references[:, None].to(sampled.dtype)).flatten(2)
    # Squared L2 ranks candidates exactly as L2 does, without the square root.
    distance = diff.abs().sum(-1) if norm == "l1" else diff.square().sum(-1)  # [N, K]
    allowed = inside
    if band > 0 and lines is not None:
        allowed = inside & (_line_distance(candidates, *lines) <= band)
        allowed = torch.where(allowed.any(dim=1, keepdim=True), allowed, inside)  # never an empty window
    distance = distance.masked_fill(~allowed, float("inf"))
    best = distance.argmin(dim=1)  # [N]
    return candidates[torch.arange(len(handles), device=handles.device), best]


def _line_distance(points: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
    """[N, K] distance of points [N, K, 2] to the line through starts[n] and ends[n] ([N, 2] each)."""
    direction = ends - starts
    unit = direction / direction.norm(dim=1, keepdim=True).clamp_min(1e-7)  # [N, 2]
    rel = points - starts[:, None, :]
    return (rel[..., 0] * unit[:, None, 1] - rel[..., 1] * unit[:, None, 0]).abs()


def patch_offsets(spacing: float, *, device: torch.device | None = None) -> torch.Tensor | None:
    """[9, 2] offsets of a 3 x 3 descriptor grid `spacing` px apart; None for spacing 0 (one sample)."""
    if spacing <= 0:
        return None
    return search_offsets(spacing, spacing, device=device)
