"""cv2.seamlessClone made safe at the photo border."""
from __future__ import annotations

import cv2
import numpy as np

_MARGIN = 4  # px of reflected border so the mask never touches the image edge


def seamless_clone(source: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Poisson-blend `source` into `target` (both [h, w, 3] uint8, aligned) over `region` [h, w] bool.

    seamlessClone fails when the mask touches the image border or its box leaves the image,
    and centres the box on a point given as (x, y); we pad both images by reflection and
    place the box exactly where it already is.
    """
    if not region.any():
        return target.copy()
    m = _MARGIN
    src = cv2.copyMakeBorder(np.ascontiguousarray(source), m, m, m, m, cv2.BORDER_REFLECT_101)
    dst = cv2.copyMakeBorder(np.ascontiguousarray(target), m, m, m, m, cv2.BORDER_REFLECT_101)
    mask = cv2.copyMakeBorder(region.astype(np.uint8) * 255, m, m, m, m, cv2.BORDER_CONSTANT, value=0)
    x, y, w, h = cv2.boundingRect(mask)
    # OpenCV puts the box's top-left at centre - size // 2: this centre leaves it in place.
    centre = (x + w // 2, y + h // 2)
    out = cv2.seamlessClone(src, dst, mask, centre, cv2.NORMAL_CLONE)
    return out[m:-m, m:-m]
