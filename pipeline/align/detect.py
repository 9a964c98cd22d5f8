"""Face detection: dlib's frontal HOG detector, and its CNN (MMOD) detector for what HOG misses.

HOG is fast and precise on frontal faces but misses turned heads and faces that fill the
frame; the CNN finds those (bench/face_detection.py). By default both run and their hits are
merged, HOG's box kept where both found a face. Large photos are searched on a reduced copy
(so a 12 MP photo costs about what a 1 MP one does); each HOG hit is then re-detected in a
window around it, cut from the full photo at a size where dlib is at its most precise.
"""
from __future__ import annotations

import functools
import logging

import cv2
import numpy as np

from pipeline.common import UserError

from .cnn_detect import run_cnn
from .align_types import DETECTORS, DetectConfig, DetectedFace

logger = logging.getLogger(__name__)

# dlib's detection window is 80 px; a face box near twice that is detected most precisely.
_REFINE_FACE_PX = 160
# A CNN hit overlapping a HOG hit this much (intersection over union) is the same face.
_SAME_FACE_IOU = 0.3


@functools.lru_cache(maxsize=1)
def _detector():
    import dlib  # imported lazily: loading dlib is slow and only this stage needs it

    return dlib.get_frontal_face_detector()


def detect_faces(image: np.ndarray, *, config: DetectConfig = DetectConfig()) -> list[DetectedFace]:
    """All faces in `image` [H, W, 3] uint8 RGB, sorted left to right by box centre.

    Hits scoring below `config.min_score` are dropped, unless they are all there is (then the
    weak hits are kept and a warning is logged).
    """
    _check_image(image)
    if config.upsample < 0 or config.max_side < 64 or config.cnn_max_side < 64:
        raise UserError("detection needs upsample >= 0, max_side >= 64 and cnn_max_side >= 64")
    if config.detector not in DETECTORS:
        raise UserError(f"unknown face detector '{config.detector}'; use one of {', '.join(DETECTORS)}")

    # 1-2. HOG: coarse search on a reduced copy, each hit refined at full resolution.
    faces = _hog_faces(image, config) if config.detector in ("auto", "hog") else []

    # 3. CNN: adds the faces HOG did not find (a HOG box is the landmark predictor's own), and
    #    confirms weak HOG hits it also found.
    confirmed: set[int] = set()
    if config.detector in ("auto", "cnn"):
        hog_count = len(faces)
        for box, confidence in run_cnn(image, max_side=config.cnn_max_side, min_confidence=config.cnn_min_confidence):
            same = [i for i in range(hog_count) if _iou(box, faces[i].box) >= _SAME_FACE_IOU]
            confirmed.update(same)
            if not same:
                faces.append(DetectedFace(box=box, score=confidence, source="cnn"))

    # 4. Drop weak HOG hits no CNN hit confirmed, unless nothing else is there.
    strong = [f for i, f in enumerate(faces) if f.source == "cnn" or i in confirmed or f.score >= config.min_score]
    if not strong and faces:
        logger.warning("only weak face detections (best score %.2f); results may be poor", max(f.score for f in faces))
        strong = faces
    return sorted(strong, key=lambda f: f.centre_x)


def _hog_faces(image: np.ndarray, config: DetectConfig) -> list[DetectedFace]:
    height, width = image.shape[:2]
    scale = min(1.0, config.max_side / max(height, width))
    small = image if scale >= 1.0 else cv2.resize(
        image, (max(int(round(width * scale)), 1), max(int(round(height * scale)), 1)), interpolation=cv2.INTER_AREA)
    faces = [
        DetectedFace(box=_scale_box(box, small.shape, image.shape), score=score)
        for box, score in _run_detector(small, config.upsample)
    ]
    if config.refine and scale < 1.0:
        faces = [_refine(image, face) for face in faces]
    return faces


def select_face(
    faces: list[DetectedFace], face: int | None, *, name: str, config: DetectConfig = DetectConfig()
) -> int:
    """Index of the face to use: `face` (left to right from 0) or, when None, the largest."""
    if not faces:
        raise UserError(
            f"{name}: no face found (detector {config.detector}); use a photo where the face is visible and "
            f"at least {config.min_face_px} px wide, or try --upsample {config.upsample + 1} if the face is small"
        )
    if face is None:
        index = max(range(len(faces)), key=lambda i: faces[i].area)
    else:
        if not 0 <= face < len(faces):
            raise UserError(
                f"{name}: --face {face} asked for but {len(faces)} face(s) were found; "
                f"use 0 to {len(faces) - 1} (left to right)"
            )
        index = face
    if faces[index].width < config.min_face_px:
        raise UserError(
            f"{name}: the face is only {faces[index].width:.0f} px wide, below the {config.min_face_px} px minimum; "
            "use a larger or closer photo"
        )
    return index


def _run_detector(image: np.ndarray, upsample: int) -> list[tuple[tuple[float, float, float, float], float]]:
    rects, scores, _ = _detector().run(np.ascontiguousarray(image), upsample, 0.0)
    return [((float(r.left()), float(r.top()), float(r.right()), float(r.bottom())), float(s))
            for r, s in zip(rects, scores)]


def _refine(image: np.ndarray, face: DetectedFace) -> DetectedFace:
    """Re-detect around `face` in a window cut from the full photo; keep the coarse box if lost."""
    height, width = image.shape[:2]
    left, top, right, bottom = face.box
    margin = 0.6 * face.width
    x0, y0 = max(int(left - margin), 0), max(int(top - margin), 0)
    x1, y1 = min(int(right + margin) + 1, width), min(int(bottom + margin) + 1, height)
    window = image[y0:y1, x0:x1]
    scale = min(1.0, _REFINE_FACE_PX / face.width)
    if scale < 1.0:
        size = (max(int(round(window.shape[1] * scale)), 1), max(int(round(window.shape[0] * scale)), 1))
        small = cv2.resize(window, size, interpolation=cv2.INTER_AREA)
    else:
        small = window
    upsample = 1 if face.width * scale < 100 else 0
    best, best_iou = face, 0.3
    for box, score in _run_detector(small, upsample):
        bx = _scale_box(box, small.shape, window.shape)
        bx = (bx[0] + x0, bx[1] + y0, bx[2] + x0, bx[3] + y0)
        overlap = _iou(bx, face.box)
        if overlap > best_iou:
            best, best_iou = DetectedFace(box=bx, score=max(score, face.score)), overlap
    return best


def _scale_box(box, from_shape, to_shape) -> tuple[float, float, float, float]:
    """Map a box between two resolutions of one image (pixel-index corners)."""
    sx = to_shape[1] / from_shape[1]
    sy = to_shape[0] / from_shape[0]
    left, top, right, bottom = box
    return ((left + 0.5) * sx - 0.5, (top + 0.5) * sy - 0.5, (right + 0.5) * sx - 0.5, (bottom + 0.5) * sy - 0.5)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]) + 1)
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]) + 1)
    inter = ix * iy
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def _check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an [H, W, 3] uint8 RGB image, got {getattr(image, 'dtype', type(image))} "
                         f"{getattr(image, 'shape', '')}")
