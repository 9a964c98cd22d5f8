"""Checks of the user's drag inputs (points and mask), each failing with one line naming the fix."""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from ..common import UserError


def check_points(
    handles: Sequence[Sequence[float]], targets: Sequence[Sequence[float]], image_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """-> handles, targets as float64 arrays [N, 2] (x, y), each inside [0, W-1] x [0, H-1]."""
    if len(handles) == 0:
        raise UserError("no drag points given: add at least one handle/target pair")
    if len(handles) != len(targets):
        raise UserError(f"{len(handles)} handles but {len(targets)} targets: give one target per handle")
    arrays = []
    for name, points in (("handle", handles), ("target", targets)):
        rows = []
        for i, point in enumerate(points):
            values = list(point) if isinstance(point, (list, tuple, np.ndarray, torch.Tensor)) else None
            if values is None or len(values) != 2:
                raise UserError(f"{name} {i} is {point!r}: write each point as [x, y]")
            try:
                x, y = (float(v) for v in values)
            except (TypeError, ValueError):
                raise UserError(f"{name} {i} is {point!r}: coordinates must be numbers") from None
            if not (math.isfinite(x) and math.isfinite(y)):
                raise UserError(f"{name} {i} is {point!r}: coordinates must be finite numbers (no NaN/inf)")
            rows.append((x, y))
        arrays.append(np.asarray(rows, dtype=np.float64))
    width, height = image_size
    for name, array in (("handle", arrays[0]), ("target", arrays[1])):
        for i, (x, y) in enumerate(array):
            if not (0 <= x <= width - 1 and 0 <= y <= height - 1):
                raise UserError(
                    f"{name} {i} at ({x:g}, {y:g}) is outside the {width}x{height} image: "
                    f"use pixel coordinates 0..{width - 1} (x) and 0..{height - 1} (y)"
                )
    rounded = {tuple(np.round(p).astype(int)) for p in arrays[0]}
    if len(rounded) < len(arrays[0]):
        raise UserError("two handles sit on the same pixel: give each handle its own pixel")
    return arrays[0], arrays[1]


def check_mask(mask: np.ndarray | torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """-> float32 [H, W] tensor of 0/1 (1 = flexible); must be image-sized and binary."""
    width, height = image_size
    tensor = torch.as_tensor(np.asarray(mask) if not isinstance(mask, torch.Tensor) else mask)
    tensor = tensor.detach().cpu()
    if tuple(tensor.shape) != (height, width):
        raise UserError(
            f"mask is {'x'.join(str(s) for s in tensor.shape[::-1])} but the image is {width}x{height}: "
            "give a mask of the image's size"
        )
    tensor = tensor.to(torch.float32)
    if not torch.isfinite(tensor).all() or not ((tensor == 0) | (tensor == 1)).all():
        raise UserError("mask is not binary: use 0 for the fixed region and 1 for the flexible one, nothing between")
    if tensor.sum() == 0:
        raise UserError("mask marks no pixel as flexible: paint the region that may change white")
    return tensor


def check_reach(num_points: int, image_size: tuple[int, int], mask: torch.Tensor | None) -> None:
    """More points than the pixels they may occupy cannot all be placed."""
    width, height = image_size
    reachable = int(mask.sum().item()) if mask is not None else width * height
    if num_points > reachable:
        where = "flexible pixels in the mask" if mask is not None else "pixels in the image"
        raise UserError(f"{num_points} points but only {reachable} {where}: use fewer points")
