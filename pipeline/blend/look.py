"""The photo's own look for generator pixels: colour, sharpness and grain of the face around them.

A generator renders clean, colourful, evenly sharp faces; the photo may be greyscale, tinted,
soft, grainy. Wherever generator pixels enter the photo (new content in flow mode, the whole
face in feather/poisson mode) they are made to look like the photo there:
  1. colour and white balance: the photo-minus-reconstruction colour offset, low-passed
     (flow.new_content), is added first (paste.py); a greyscale photo (`is_greyscale`) gets
     an exactly grey result. A global chroma transfer was tried and dropped: matching the
     face's a/b spread greyed portrait_b's blue eyes;
  2. sharpness: blurred to the photo's gradient energy when they are sharper;
  3. grain: seeded Gaussian grain added up to the photo's noise level when they are cleaner.
"""
from __future__ import annotations

import cv2
import numpy as np

# A pixel is coloured when its channels spread more than this (uint8 levels): JPEG chroma
# noise on greyscale scans measured 1-4 levels.
_COLOURED_LEVELS = 8
# A photo whose coloured pixels are under this share of the face is greyscale.
_GREYSCALE_SHARE = 0.01
_MIN_GRAIN_LEVELS = 2.0  # uint8 levels of grain sigma below which none is added
_BLUR_SIGMAS = (0.0, 0.5, 0.8, 1.2, 1.7, 2.4)  # px; candidate softenings, the closest match wins


def is_greyscale(region: np.ndarray, weight: np.ndarray) -> bool:
    """True when the photo region [h, w, 3] uint8 has (almost) no colour where weight [h, w] > 0."""
    inside = weight > 0
    if not inside.any():
        return False
    spread = region.max(axis=2).astype(np.int16) - region.min(axis=2).astype(np.int16)
    return float((spread[inside] > _COLOURED_LEVELS).mean()) < _GREYSCALE_SHARE


def to_grey(image: np.ndarray) -> np.ndarray:
    """[h, w, 3] uint8 with all three channels the luma (Rec. 601, as OpenCV's)."""
    return np.repeat(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)


def match_look(generated: np.ndarray, photo: np.ndarray, weight: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """`generated` [h, w, 3] uint8 given the look of `photo` [h, w, 3] uint8 where weight [h, w] > 0.

    Statistics are taken over the weighted region (the face); pixels outside it are returned
    as they were.
    """
    inside = weight > 0.05
    if inside.sum() < 16:
        return generated
    out = _match_sharpness(generated, photo, inside)
    out = _match_grain(out, photo, inside, seed=seed)
    return np.where(inside[:, :, None], out, generated).astype(np.uint8)


def _gradient_energy(image: np.ndarray, inside: np.ndarray) -> float:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    return float(np.sqrt(gx * gx + gy * gy)[inside].mean())


def _match_sharpness(generated: np.ndarray, photo: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Soften the render to the photo's gradient energy (never sharpen: that would invent detail)."""
    target = _gradient_energy(photo, inside)
    best, best_gap = generated, abs(_gradient_energy(generated, inside) - target)
    for sigma in _BLUR_SIGMAS[1:]:
        soft = cv2.GaussianBlur(generated, (0, 0), sigma)
        gap = abs(_gradient_energy(soft, inside) - target)
        if gap >= best_gap:
            break
        best, best_gap = soft, gap
    return best


def _noise_level(image: np.ndarray, inside: np.ndarray) -> float:
    """Grain sigma (uint8 levels) of the luma: fine-scale residual in the flattest 8 x 8 blocks.

    Texture (pores, hair) lives in the busy blocks; what the flat ones (skin, a cheek) keep is
    grain. The 20th percentile of the blocks' residual sigma estimates it.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    residual = grey - cv2.GaussianBlur(grey, (0, 0), 1.0)
    h, w = (residual.shape[0] // 8) * 8, (residual.shape[1] // 8) * 8
    if h == 0 or w == 0:
        return 0.0
    blocks = residual[:h, :w].reshape(h // 8, 8, w // 8, 8).transpose(0, 2, 1, 3).reshape(h // 8, w // 8, 64)
    keep = inside[:h, :w].reshape(h // 8, 8, w // 8, 8).all(axis=(1, 3))
    if keep.sum() < 4:
        return 0.0
    return float(np.percentile(blocks[keep].std(axis=1), 20))


def _match_grain(generated: np.ndarray, photo: np.ndarray, inside: np.ndarray, *, seed: int) -> np.ndarray:
    target, have = _noise_level(photo, inside), _noise_level(generated, inside)
    # Only grain worth seeing: resampling alone loses some, and adding back that little would
    # only make an unedited face noisier than it was.
    if target < _MIN_GRAIN_LEVELS or target < 1.5 * have:
        return generated
    missing = target * target - have * have
    rng = np.random.default_rng(seed)
    # The estimator reads 0.80 of white noise's sigma (measured on sigma-6 noise: 4.79).
    grain = rng.standard_normal(generated.shape[:2]).astype(np.float32) * (np.sqrt(missing) / 0.80)
    return np.clip(generated.astype(np.float32) + grain[:, :, None], 0, 255).astype(np.uint8)
