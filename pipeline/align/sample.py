"""Resample a quad of the photo into a square crop, the way NVIDIA's FFHQ script does.

Steps, as in the script: (1) shrink when the quad is over twice the output size, (2) crop the
quad's box plus a border, (3) where the quad comes near or leaves the photo, reflect-pad and
fade the padding to a blurred, median-coloured fill, (4) sample bilinearly at `supersample`
times the output size, (5) downsample with Lanczos. We work on the quad's region only (a
12 MP photo is never resized whole) and track the exact affine, so the quad geometry in the
original photo holds to floating-point precision; the fill colours are the script's, with
the wide blur computed on a reduced copy for speed.
"""
from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image

from .geometry import apply_affine, crop_from_quad, quad_size


def sample_quad(
    image: np.ndarray, quad: np.ndarray, output_size: int, *, supersample: int = 4
) -> tuple[np.ndarray, np.ndarray]:
    """Crop `quad` [4, 2] out of `image` [H, W, 3] uint8 RGB.

    Returns the crop [S, S, 3] uint8 and the fill mask [S, S] float32 in [0, 1]: the share of
    each crop pixel that came from padding fill (reflection, blur, median colour), not the photo.
    """
    s = int(output_size)
    quad = np.asarray(quad, dtype=np.float64)
    qsize = quad_size(quad)

    # 1-2. Region of the photo the quad needs, shrunk like the script when the face is large.
    shrink = int(math.floor(qsize / s * 0.5))
    shrink = shrink if shrink > 1 else 1
    border = max(int(np.rint(qsize / shrink * 0.1)), 3)
    region, to_work = _crop_region(image, quad, border * shrink, shrink)
    work_quad = apply_affine(to_work, quad)
    work_qsize = qsize / shrink

    # 3. Pad only where the quad comes within 4 working pixels of the region's edge.
    h, w = region.shape[:2]
    lo = np.floor(work_quad.min(axis=0)).astype(int)
    hi = np.ceil(work_quad.max(axis=0)).astype(int)
    pad = np.array([max(-lo[0] + border, 0), max(-lo[1] + border, 0),
                    max(hi[0] - w + border, 0), max(hi[1] - h + border, 0)])  # left, top, right, bottom
    fill = None
    if pad.max() > border - 4:
        pad = np.maximum(pad, max(int(np.rint(work_qsize * 0.3)), 1))
        region, fill = _pad_with_fill(region, pad, work_qsize)
        work_quad = work_quad + pad[:2]

    # 4-5. Bilinear at `supersample` x, then Lanczos down (PIL, as the script's ANTIALIAS).
    big = s * supersample
    m = crop_from_quad(work_quad, big)
    sampled = cv2.warpAffine(region, m, (big, big), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    crop = sampled if supersample == 1 else np.asarray(Image.fromarray(sampled).resize((s, s), Image.LANCZOS))
    if fill is None:
        fill_mask = np.zeros((s, s), np.float32)
    else:
        fill_big = cv2.warpAffine(fill, m, (big, big), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_CONSTANT, borderValue=1.0)
        fill_mask = cv2.resize(fill_big, (s, s), interpolation=cv2.INTER_AREA)
        fill_mask = np.clip(fill_mask, 0.0, 1.0)
    return np.ascontiguousarray(crop), fill_mask.astype(np.float32)


def _crop_region(image: np.ndarray, quad: np.ndarray, border: int, shrink: int) -> tuple[np.ndarray, np.ndarray]:
    """The quad's box plus `border` photo px (clipped), reduced by `shrink`; and photo->region affine."""
    height, width = image.shape[:2]
    x0 = max(int(math.floor(quad[:, 0].min())) - border, 0)
    y0 = max(int(math.floor(quad[:, 1].min())) - border, 0)
    x1 = min(int(math.ceil(quad[:, 0].max())) + border, width)
    y1 = min(int(math.ceil(quad[:, 1].max())) + border, height)
    if x1 <= x0 or y1 <= y0:  # the quad lies wholly outside the photo: keep one edge pixel
        x0, y0 = min(max(x0, 0), width - 1), min(max(y0, 0), height - 1)
        x1, y1 = x0 + 1, y0 + 1
    region = image[y0:y1, x0:x1]
    rw, rh = x1 - x0, y1 - y0
    if shrink > 1:
        ww, wh = max(int(np.rint(rw / shrink)), 1), max(int(np.rint(rh / shrink)), 1)
        region = cv2.resize(region, (ww, wh), interpolation=cv2.INTER_AREA)
    else:
        ww, wh = rw, rh
        region = np.ascontiguousarray(region)
    sx, sy = ww / rw, wh / rh
    # Continuous coordinates scale; index = continuous - 0.5 on both sides.
    to_work = np.array([[sx, 0.0, (0.5 - x0) * sx - 0.5], [0.0, sy, (0.5 - y0) * sy - 0.5]])
    return region, to_work


def _pad_with_fill(region: np.ndarray, pad: np.ndarray, qsize: float) -> tuple[np.ndarray, np.ndarray]:
    """Reflect-pad, blur and median-fill like the FFHQ script; also return the fill weight map."""
    left, top, right, bottom = (int(v) for v in pad)
    img = np.pad(region.astype(np.float32), ((top, bottom), (left, right), (0, 0)), mode="reflect")
    h, w = img.shape[:2]
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    mask_x = 1.0 - np.minimum(xs / left, (w - 1 - xs) / right)
    mask_y = 1.0 - np.minimum(ys / top, (h - 1 - ys) / bottom)
    mask = np.maximum(mask_x, mask_y)  # [h, w]: > 0 in the padding, < 0 inside
    blur_weight = np.clip(mask * 3.0 + 1.0, 0.0, 1.0)
    img += (_wide_gaussian(img, qsize * 0.02) - img) * blur_weight[:, :, None]
    step = max(1, int(math.sqrt(h * w / 250_000)))  # the median of a subsample is plenty
    median = np.median(img[::step, ::step].reshape(-1, 3), axis=0)
    img += (median - img) * np.clip(mask, 0.0, 1.0)[:, :, None]
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return out, blur_weight.astype(np.float32)


def _wide_gaussian(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (reflect borders); wide kernels run on a reduced copy, which they hide."""
    if sigma < 0.5:
        return img.copy()
    factor = max(1, int(sigma // 4))
    if factor == 1:
        return cv2.GaussianBlur(img, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(w // factor, 1), max(h // factor, 1)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor, borderType=cv2.BORDER_REFLECT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
