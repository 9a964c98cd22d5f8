"""What an edit did to the photo, measured on the final photo the same way for every mode.

  new_content      share of the face (mask-weighted) where the final photo differs from the
                   ORIGINAL photo moved by the edit's flow: what no warp of the photo explains
                   (teeth behind opened lips; or a pasted render of another colour or look)
  changed          share of the face where the final photo differs visibly from the original
  changed_outside  share of the face changed outside the region the points asked to move
                   (None when no such region is given)
  max_motion_px    largest displacement of the edit's flow, photo px
Images are compared low-passed (sigma = new_content_scale of the crop side, in photo px), so
grain and JPEG noise do not count.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .blend_types import BlendConfig

# A low-passed colour difference (0..1) above this is a visible change.
CHANGED_LEVEL = 0.03


@dataclass(frozen=True)
class ChangeFigures:
    new_content: float
    changed: float
    changed_outside: float | None
    max_motion_px: float


def measure_change(
    original: np.ndarray,
    final: np.ndarray,
    warped_original: np.ndarray,
    alpha: np.ndarray,
    *,
    sigma_px: float,
    max_motion_px: float,
    focus: np.ndarray | None = None,
    config: BlendConfig = BlendConfig(),
) -> ChangeFigures:
    """Figures over one roi: original/final/warped_original [h, w, 3] uint8, alpha [h, w] float in
    [0, 1] (the face), focus [h, w] float in [0, 1] (where the points asked for change) or None."""
    total = float(alpha.sum())
    if total <= 0:
        return ChangeFigures(0.0, 0.0, None if focus is None else 0.0, 0.0)
    sigma = max(float(sigma_px), 0.7)

    def low(image: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(image.astype(np.float32), (0, 0), sigma)

    final_low = low(final)
    unexplained = np.abs(final_low - low(warped_original)).mean(axis=2) / 255.0
    t = np.clip((unexplained - config.new_content_low) / (config.new_content_high - config.new_content_low), 0, 1)
    new = float((t * t * (3.0 - 2.0 * t) * alpha).sum()) / total
    changed_map = (np.abs(final_low - low(original)).mean(axis=2) / 255.0 > CHANGED_LEVEL).astype(np.float32)
    changed = float((changed_map * alpha).sum()) / total
    outside = None
    if focus is not None:
        outside = float((changed_map * alpha * (1.0 - np.clip(focus, 0, 1))).sum()) / total
    return ChangeFigures(new_content=new, changed=changed, changed_outside=outside, max_motion_px=float(max_motion_px))
