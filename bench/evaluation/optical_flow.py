"""Dense optical flow between two generated images, and handle/target points sampled from it.

Flow at pixel (x, y) of image 1 is the displacement (dx, dy) that carries it to where it sits in
image 2: image1(x, y) ~ image2(x + dx, y + dy). Coordinates are px with pixel centres at
integers (the drag's convention). Points are sampled only where the flow can be trusted: the
backward flow (image 2 -> 1) must bring the point back within `fb_tolerance` px, and handle and
target must stay `margin` px inside the image.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

FLOW_METHODS = ("farneback", "dis")


def dense_flow(image1: np.ndarray, image2: np.ndarray, *, method: str = "farneback") -> np.ndarray:
    """Flow [H, W, 2] float32 (dx, dy) px from uint8 [H, W, 3] RGB image1 to image2."""
    if method not in FLOW_METHODS:
        raise ValueError(f"flow method must be one of {FLOW_METHODS}, got '{method}'")
    if image1.shape != image2.shape or image1.ndim != 3 or image1.shape[2] != 3 or image1.dtype != np.uint8:
        raise ValueError(f"dense_flow needs two uint8 [H, W, 3] images of one size, got {image1.shape} and {image2.shape}")
    gray1 = cv2.cvtColor(np.ascontiguousarray(image1), cv2.COLOR_RGB2GRAY)
    gray2 = cv2.cvtColor(np.ascontiguousarray(image2), cv2.COLOR_RGB2GRAY)
    size = min(gray1.shape)
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        dis.setPatchSize(max(4, min(8, size // 8)))
        dis.setPatchStride(max(2, dis.getPatchSize() // 2))
        return dis.calc(gray1, gray2, None)
    # Pyramid down to about 16 px, window about 1/16 of the side: the same geometry at 64 and 512 px.
    levels = max(1, int(math.log2(max(size, 32) / 16)))
    winsize = max(5, size // 16)
    return cv2.calcOpticalFlowFarneback(
        gray1, gray2, None, pyr_scale=0.5, levels=levels, winsize=winsize, iterations=5,
        poly_n=5, poly_sigma=1.1, flags=cv2.OPTFLOW_FARNEBACK_GAUSSIAN,
    )


def sample_flow_points(
    forward: np.ndarray,  # [H, W, 2] flow image 1 -> image 2
    backward: np.ndarray,  # [H, W, 2] flow image 2 -> image 1
    num_points: int,
    *,
    seed: int,
    margin: float,  # px kept free at the border, for handles and targets
    fb_tolerance: float,  # px: forward-backward round-trip error allowed
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(handles, targets): up to num_points integer handle pixels drawn uniformly (seeded) among
    the trusted ones, each with target = handle + flow. Fewer when fewer pixels qualify."""
    if forward.shape != backward.shape or forward.ndim != 3 or forward.shape[2] != 2:
        raise ValueError(f"flows must both be [H, W, 2], got {forward.shape} and {backward.shape}")
    if num_points < 1:
        raise ValueError(f"num_points must be >= 1, got {num_points}")
    height, width = forward.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    tx, ty = xs + forward[..., 0], ys + forward[..., 1]
    # Backward flow read at each target (bilinear), then the round-trip error.
    back = cv2.remap(backward.astype(np.float32), tx, ty, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    round_trip = np.hypot(forward[..., 0] + back[..., 0], forward[..., 1] + back[..., 1])
    lo_x, hi_x, lo_y, hi_y = margin, width - 1 - margin, margin, height - 1 - margin
    ok = (
        (round_trip <= fb_tolerance)
        & (xs >= lo_x) & (xs <= hi_x) & (ys >= lo_y) & (ys <= hi_y)
        & (tx >= lo_x) & (tx <= hi_x) & (ty >= lo_y) & (ty <= hi_y)
    )
    candidates = np.flatnonzero(ok)  # row-major pixel indices
    rng = np.random.RandomState(seed)
    picked = rng.choice(candidates, size=min(num_points, len(candidates)), replace=False) if len(candidates) else []
    handles, targets = [], []
    for index in picked:
        y, x = divmod(int(index), width)
        handles.append((float(x), float(y)))
        targets.append((float(tx[y, x]), float(ty[y, x])))
    return handles, targets
