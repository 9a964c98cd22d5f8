"""A picture to pick points from: the 68 numbered landmarks, the crop quad, the detected faces."""
from __future__ import annotations

import math

import cv2
import numpy as np

from .align_types import DetectedFace

_SHIFT = 4  # cv2 fixed-point bits: draw at 1/16 px so marks sit on the true sub-pixel spot
_GROUP_COLOURS = (  # RGB per landmark group: jaw, brows, nose, eyes, mouth
    ((0, 17), (255, 200, 0)), ((17, 27), (255, 120, 0)), ((27, 36), (0, 220, 255)),
    ((36, 48), (60, 255, 60)), ((48, 68), (255, 60, 200)),
)
MIN_FACE_PX = 600  # px; smaller faces are shown enlarged so the 68 numbers stay legible


def preview_scale(landmarks: np.ndarray) -> int:
    """Whole-number enlargement that shows the face at least MIN_FACE_PX wide."""
    face_px = float(np.ptp(np.asarray(landmarks)[:, 0]) + 1.0)
    return max(1, int(math.ceil(MIN_FACE_PX / face_px)))


def draw_landmarks_preview(
    image: np.ndarray,
    landmarks: np.ndarray,
    quad: np.ndarray,
    *,
    faces: list[DetectedFace] = (),
    chosen: int | None = None,
    scale: int = 1,
) -> np.ndarray:
    """Copy of `image` [H, W, 3] uint8, enlarged `scale` times, with the landmarks [68, 2]
    numbered, the quad [4, 2] outlined (top edge thicker: the crop's up), every detected face
    boxed with its index, and rulers in PHOTO px along the top and left edges."""
    out = image if scale == 1 else cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    out = np.ascontiguousarray(out.copy())

    def at(points) -> np.ndarray:  # photo px -> preview px, in cv2 fixed point
        return np.round(((np.asarray(points, dtype=np.float64) + 0.5) * scale - 0.5) * (1 << _SHIFT)).astype(np.int32)

    face_px = float(np.ptp(landmarks[:, 0]) + 1.0) * scale
    radius = max(1.5, face_px / 200.0)
    font = max(0.3, face_px / 900.0)
    thick = max(1, int(round(face_px / 400.0)))
    _rulers(out, scale, font, thick)

    for index, face in enumerate(faces):
        colour = (255, 255, 0) if index == chosen else (160, 160, 160)
        tl, br = at(face.box[:2]), at(face.box[2:])
        cv2.rectangle(out, tuple(tl), tuple(br), colour, thick, cv2.LINE_AA, _SHIFT)
        cv2.putText(out, f"face {index}", (int(tl[0] >> _SHIFT), max(int(tl[1] >> _SHIFT) - 4 * thick, 12)),
                    cv2.FONT_HERSHEY_SIMPLEX, font * 1.4, colour, thick, cv2.LINE_AA)

    q = at(quad)
    cv2.polylines(out, [q.reshape(-1, 1, 2)], True, (255, 255, 255), thick, cv2.LINE_AA, _SHIFT)
    cv2.line(out, tuple(q[0]), tuple(q[3]), (255, 255, 255), 3 * thick, cv2.LINE_AA, _SHIFT)

    pts = at(landmarks)
    for (lo, hi), colour in _GROUP_COLOURS:
        for i in range(lo, hi):
            cv2.circle(out, tuple(pts[i]), int(round(radius * (1 << _SHIFT))), colour, -1, cv2.LINE_AA, _SHIFT)
            x, y = pts[i] >> _SHIFT
            cv2.putText(out, str(i), (int(x + radius + 1), int(y - radius)), cv2.FONT_HERSHEY_SIMPLEX, font,
                        colour, max(1, thick // 2), cv2.LINE_AA)
    return out


def _rulers(out: np.ndarray, scale: int, font: float, thick: int) -> None:
    """Ticks labelled in photo px along the top and left edges (for reading off positions)."""
    height, width = out.shape[:2]
    photo_side = max(width, height) / scale
    step = next(s for s in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if photo_side / s <= 20)
    for value in range(0, int(photo_side) + 1, step):
        pos = int(round((value + 0.5) * scale - 0.5))
        for horizontal in (True, False):
            if pos >= (width if horizontal else height):
                continue
            a, b = ((pos, 0), (pos, 8 * thick)) if horizontal else ((0, pos), (8 * thick, pos))
            cv2.line(out, a, b, (255, 255, 255), thick)
            org = (pos + 2, 8 * thick + int(14 * font)) if horizontal else (8 * thick + 2, pos + int(5 * font))
            cv2.putText(out, str(value), org, cv2.FONT_HERSHEY_SIMPLEX, font * 0.8, (255, 255, 255), 1, cv2.LINE_AA)
