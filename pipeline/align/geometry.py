"""Crop geometry: the FFHQ quad, the landmark-template similarity fit, and their affines.

Pixel convention, used by every function in this package and by `pipeline/blend/`:
points are (x, y) in pixel-index coordinates, as dlib and OpenCV give them: the centre of the
pixel in column i, row j is (i, j), and the image's outer edge lies at -0.5 and W - 0.5.
(The continuous convention with centres at +0.5 is the same thing shifted by half a pixel;
NVIDIA's FFHQ script adds that 0.5 to the quad before PIL's QUAD transform.)
The quad lists the crop's OUTER corners in photo pixels, so crop pixel (x, y) = (-0.5, -0.5)
lands on quad[0] and (S - 0.5, S - 0.5) on quad[2]. The 2x3 affines map pixel-index
coordinates and can be handed to cv2.warpAffine as they are.
"""
from __future__ import annotations

import numpy as np

from pipeline.common import UserError

NUM_LANDMARKS = 68


def ffhq_quad(landmarks: np.ndarray) -> np.ndarray:
    """The FFHQ crop quad [4, 2] (TL, BL, BR, TR) from 68 dlib landmarks [68, 2] (x, y)."""
    lm = _check_landmarks(landmarks)
    eye_left = lm[36:42].mean(axis=0)
    eye_right = lm[42:48].mean(axis=0)
    eye_avg = (eye_left + eye_right) * 0.5
    eye_to_eye = eye_right - eye_left
    mouth_avg = (lm[48] + lm[54]) * 0.5
    eye_to_mouth = mouth_avg - eye_avg

    # Eye line averaged with the perpendicular of the eye-mouth axis: robust to tilted faces.
    x = eye_to_eye + np.array([eye_to_mouth[1], -eye_to_mouth[0]])
    norm = np.hypot(*x)
    if not np.isfinite(norm) or norm < 1e-6:
        raise UserError("the landmarks are degenerate (eyes and mouth coincide); pick another face")
    x = x / norm * max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.array([-x[1], x[0]])
    c = eye_avg + eye_to_mouth * 0.1
    return np.stack([c - x - y, c - x + y, c + x + y, c + x - y])


def template_quad(landmarks: np.ndarray, template: np.ndarray, output_size: int) -> np.ndarray:
    """Quad of the similarity that best maps `landmarks` onto `template` (least squares).

    `template` [68, 2] holds where each landmark should sit in the crop, as fractions of the
    crop side measured from its outer top-left corner (so (0.5, 0.5) is the crop's centre,
    whatever its resolution). No shear, no reflection: rotation, uniform scale, shift.
    """
    lm = _check_landmarks(landmarks)
    tpl = np.asarray(template, dtype=np.float64)
    if tpl.shape != (NUM_LANDMARKS, 2) or not np.all(np.isfinite(tpl)):
        raise UserError(f"the landmark template must be [68][2] finite numbers, got shape {tpl.shape}")
    target = tpl * output_size - 0.5  # fractions of the side -> crop pixel-index coordinates
    forward = _umeyama_similarity(lm, target)
    corners = np.array([[-0.5, -0.5], [-0.5, output_size - 0.5],
                        [output_size - 0.5, output_size - 0.5], [output_size - 0.5, -0.5]])
    return apply_affine(invert_affine(forward), corners)


def crop_from_quad(quad: np.ndarray, output_size: int) -> np.ndarray:
    """2x3 affine mapping photo pixel-index (x, y) to crop pixel-index (x, y) for this quad."""
    quad = np.asarray(quad, dtype=np.float64)
    s = float(output_size)
    # TL, BL, TR fix an affine; a square quad (FFHQ or similarity) makes it a similarity.
    src = np.stack([quad[0], quad[1], quad[3]]).astype(np.float64)
    dst = np.array([[-0.5, -0.5], [-0.5, s - 0.5], [s - 0.5, -0.5]])
    a = np.concatenate([src, np.ones((3, 1))], axis=1)  # [3, 3]
    if abs(np.linalg.det(a)) < 1e-12:
        raise UserError("the crop quad is degenerate; pick another face")
    return np.linalg.solve(a, dst).T  # [2, 3]


def quad_size(quad: np.ndarray) -> float:
    """Side length of the quad in photo pixels (qsize in NVIDIA's script)."""
    quad = np.asarray(quad, dtype=np.float64)
    return float(np.hypot(*(quad[3] - quad[0])))


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (x, y) points [..., 2] through a 2x3 affine."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    lin = np.linalg.inv(matrix[:, :2])
    return np.concatenate([lin, -(lin @ matrix[:, 2])[:, None]], axis=1)


def _umeyama_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (Umeyama 1991) mapping src [N, 2] onto dst [N, 2], as 2x3."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s0, d0 = src - mu_s, dst - mu_d
    var_s = (s0 ** 2).sum() / len(src)
    if var_s < 1e-12:
        raise UserError("the landmarks are degenerate (all at one point); pick another face")
    cov = d0.T @ s0 / len(src)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[1, 1] = -1.0  # a reflection fits better: forbid it
    rot = u @ fix @ vt
    scale = float(np.trace(np.diag(sig) @ fix) / var_s)
    lin = scale * rot
    return np.concatenate([lin, (mu_d - lin @ mu_s)[:, None]], axis=1)


def _check_landmarks(landmarks: np.ndarray) -> np.ndarray:
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.shape != (NUM_LANDMARKS, 2) or not np.all(np.isfinite(lm)):
        raise ValueError(f"expected 68 finite (x, y) landmarks [68, 2], got {lm.shape}")
    return lm
