"""Dense motion of an edit, measured on crops, for re-doing the edit on the photo's own pixels.

The edit's motion is the optical flow from the edited crop back to the unedited reconstruction:
edited(p) ~ reconstruction(p + flow(p)). Whatever that warp cannot explain (teeth behind
opened lips, an opened eye) is "new content", for which only generator pixels will do.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .blend_types import BlendConfig, CropGeometry
from .warp import Roi, roi_from_crop_matrix


@dataclass(frozen=True, eq=False)
class FlowField:
    flow: np.ndarray    # [G, G, 2] float32, crop px: edited(p) ~ reconstruction(p + flow(p)); p on the G grid
    grid_scale: float   # G / S: the grid is this much finer than the crop
    edited: np.ndarray          # [G, G, 3] float32 0..255, edited crop on the grid
    reconstruction: np.ndarray  # [G, G, 3] float32 0..255, reconstruction on the grid


def dense_flow(
    edited: np.ndarray,
    reconstruction: np.ndarray,
    *,
    anchors: tuple[np.ndarray, np.ndarray] | None = None,
    config: BlendConfig = BlendConfig(),
) -> FlowField:
    """Flow between two [S, S, 3] uint8 crops (OpenCV DIS), pinned at tracked points if given.

    `anchors` = (start, end) [K, 2] crop px: content at `start` in the reconstruction ended
    at `end` in the edit (the drag's handles and their final tracked positions).
    """
    size = edited.shape[0]
    grid = max(size, int(config.flow_size))
    k = grid / size

    # 1. Both crops on a grid fine enough for DIS's 8 px patches.
    e = _to_grid(edited, grid)
    r = _to_grid(reconstruction, grid)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(_gray(e), _gray(r), None)  # [G, G, 2] grid px

    # 2. Tracked points know their motion better than the flow does: spread their residuals.
    if anchors is not None and len(anchors[0]):
        flow = _pin(flow, np.asarray(anchors[0]) * 1.0, np.asarray(anchors[1]) * 1.0, k, config.anchor_sigma * grid)

    # 3. Dead zone: sub-threshold motion is noise, and must be exactly zero for an unedited crop.
    mag = np.sqrt((flow ** 2).sum(axis=2, keepdims=True))
    gain = np.clip(1.0 - config.flow_deadzone / np.maximum(mag, 1e-12), 0.0, 1.0)
    flow = (flow * gain / k).astype(np.float32)
    return FlowField(flow=flow, grid_scale=k, edited=e, reconstruction=r)


def move_points(points: np.ndarray, field: FlowField, iterations: int = 4) -> np.ndarray:
    """Where reconstruction points [N, 2] (crop px) went in the edit: solve p + flow(p) = point."""
    pts = np.asarray(points, dtype=np.float64)
    p = pts.copy()
    for _ in range(iterations):
        p = pts - _sample(field.flow, (p + 0.5) * field.grid_scale - 0.5)
    return p


def new_content(
    field: FlowField, original: np.ndarray, alpha: np.ndarray, *, config: BlendConfig = BlendConfig()
) -> tuple[np.ndarray, np.ndarray]:
    """Where the edit made what no warp of the photo can, and the colour offset for it.

    Returns weight [G, G] float32 in [0, 1] (already times the face mask) and offset
    [S, S, 3] float32: the photo-minus-reconstruction colour near each spot, so generator
    pixels put into the photo match its tone.
    """
    grid = field.flow.shape[0]
    size = original.shape[0]
    alpha_g = cv2.resize(alpha, (grid, grid), interpolation=cv2.INTER_LINEAR) if grid != size else alpha

    # 1. What the warp explains: the reconstruction (and the photo's own crop) moved by the flow.
    xs, ys = _grid_coords(grid, field.flow * field.grid_scale)
    r_w = cv2.remap(field.reconstruction, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    o_w = cv2.remap(_to_grid(original, grid), xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    # 2. New content: the edit's structure differs from the warped reconstruction's. Both are
    #    low-passed first, so that texture the render lost or gained (a generator smooths skin
    #    when a drag leaves the pivot) does not count: the warped photo keeps its own texture.
    sigma = max(config.new_content_scale * grid, 1.0)
    diff = np.abs(cv2.GaussianBlur(field.edited, (0, 0), sigma) - cv2.GaussianBlur(r_w, (0, 0), sigma))
    diff = diff.mean(axis=2) / 255.0
    t = np.clip((diff - config.new_content_low) / (config.new_content_high - config.new_content_low), 0.0, 1.0)
    weight = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    grow = config.new_content_grow * grid
    if grow >= 0.5 and weight.any():
        radius = int(math.ceil(grow))
        weight = cv2.dilate(weight, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
        weight = cv2.GaussianBlur(weight, (0, 0), grow)
    weight = np.clip(weight * alpha_g, 0.0, 1.0).astype(np.float32)

    # 3. Tone: photo minus reconstruction, averaged over the face outside the new content
    #    (a low-frequency quantity: computed on a grid of about 64 px).
    trust = (alpha_g * (1.0 - weight)).astype(np.float32)
    small = min(grid, 64)
    sigma = max(config.tone_sigma * small, 0.5)
    diff_small = cv2.resize((o_w - r_w) * trust[:, :, None], (small, small), interpolation=cv2.INTER_AREA)
    trust_small = cv2.resize(trust, (small, small), interpolation=cv2.INTER_AREA)
    num = cv2.GaussianBlur(diff_small, (0, 0), sigma)
    den = cv2.GaussianBlur(trust_small, (0, 0), sigma)[:, :, None]
    offset = cv2.resize(num / np.maximum(den, 1e-3), (size, size), interpolation=cv2.INTER_LINEAR)
    return weight, offset.astype(np.float32)


def flow_in_photo(field: FlowField, geometry: CropGeometry, roi: Roi) -> np.ndarray:
    """The edit's backward displacement [h, w, 2] float32 in photo px over `roi`.

    A photo pixel q lies at crop point c = A q; the edit shows there what the reconstruction
    had at c + flow(c), which is photo point q + L^-1 flow(c) (L: the linear part of A).
    """
    x0, y0, x1, y1 = roi
    inv = np.linalg.inv(geometry.crop_from_photo[:, :2]).astype(np.float32)
    photo_flow = np.ascontiguousarray(field.flow @ inv.T)  # still on the crop grid, now in photo px
    m = roi_from_crop_matrix(geometry, roi, field.grid_scale)
    return cv2.warpAffine(photo_flow, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)


def _to_grid(image: np.ndarray, grid: int) -> np.ndarray:
    img = image.astype(np.float32)
    if img.shape[0] == grid:
        return img
    return cv2.resize(img, (grid, grid), interpolation=cv2.INTER_CUBIC)


def _gray(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)), 0, 255).astype(np.uint8)


def _grid_coords(grid: int, offset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    base = np.arange(grid, dtype=np.float32)
    return base[None, :] + offset[:, :, 0], base[:, None] + offset[:, :, 1]


def _sample(field: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Bilinear samples of a [G, G, C] array at (x, y) grid points [N, 2] (edge-clamped)."""
    g = field.shape[0]
    x = np.clip(pts[:, 0], 0, g - 1)
    y = np.clip(pts[:, 1], 0, g - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, g - 1), np.minimum(y0 + 1, g - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    top = field[y0, x0] * (1 - fx) + field[y0, x1] * fx
    bottom = field[y1, x0] * (1 - fx) + field[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def _pin(flow: np.ndarray, start: np.ndarray, end: np.ndarray, k: float, sigma: float) -> np.ndarray:
    """Correct the flow so that flow(end) = start - end at each anchor, fading with distance."""
    start_g = (start.reshape(-1, 2) + 0.5) * k - 0.5
    end_g = (end.reshape(-1, 2) + 0.5) * k - 0.5
    residual = (start_g - end_g) - _sample(flow, end_g)  # [K, 2] grid px
    grid = flow.shape[0]
    yy, xx = np.mgrid[0:grid, 0:grid].astype(np.float32)
    total = np.zeros_like(flow)
    weight_sum = np.zeros(flow.shape[:2], np.float32)
    for (ex, ey), res in zip(end_g, residual):
        w = np.exp(-((xx - ex) ** 2 + (yy - ey) ** 2) / (2.0 * sigma * sigma)).astype(np.float32)
        total += w[:, :, None] * res.astype(np.float32)
        weight_sum += w
    # Dividing by max(1, sum) keeps one anchor's full correction at its spot and blends overlaps.
    return flow + total / np.maximum(weight_sum, 1.0)[:, :, None]
