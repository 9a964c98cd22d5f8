"""From a photo to the generator's crop: detect, pick a face, landmarks, crop via the quad."""
from __future__ import annotations

import logging
import os

import numpy as np

from pipeline.common import UserError

from .detect import detect_faces, select_face
from .geometry import apply_affine, crop_from_quad, ffhq_quad, invert_affine, template_quad
from .landmark_predictor import predict_landmarks
from .sample import sample_quad
from .align_types import CONVENTIONS, AlignConfig, AlignedFace, DetectConfig, DetectedFace

logger = logging.getLogger(__name__)


def align_face(
    image: np.ndarray,
    landmarks: np.ndarray,
    output_size: int = 512,
    convention: str = "ffhq",
    *,
    template: np.ndarray | None = None,
    config: AlignConfig = AlignConfig(),
    face_index: int = 0,
    face_box: tuple[float, float, float, float] | None = None,
) -> AlignedFace:
    """Crop the face with these 68 landmarks [68, 2] (x, y, photo px) out of `image` [H, W, 3] uint8.

    convention 'ffhq': NVIDIA's FFHQ quad; 'template': the least-squares similarity that puts
    the landmarks on `template` [68, 2] (fractions of the crop side, see geometry.template_quad).
    """
    # 1. Check inputs.
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an [H, W, 3] uint8 RGB image, got {image.dtype} {image.shape}")
    if convention not in CONVENTIONS:
        raise UserError(f"unknown crop convention '{convention}'; use one of {', '.join(CONVENTIONS)}")
    if not 8 <= int(output_size) <= 4096:
        raise UserError(f"crop size {output_size} is out of range; use 8 to 4096 px")
    if convention == "template" and template is None:
        raise UserError("the 'template' crop convention needs a landmark template ([68][2] in 0..1)")
    if config.supersample < 1:
        raise ValueError("supersample must be >= 1")
    landmarks = np.asarray(landmarks, dtype=np.float64)
    size = int(output_size)

    # 2. The quad in photo px, and the affines it defines.
    quad = ffhq_quad(landmarks) if convention == "ffhq" else template_quad(landmarks, template, size)
    forward = crop_from_quad(quad, size)

    # 3. Pixels.
    crop, fill_mask = sample_quad(image, quad, size, supersample=config.supersample)
    return AlignedFace(
        crop=crop, quad=quad, crop_from_photo=forward, photo_from_crop=invert_affine(forward),
        landmarks=landmarks, crop_landmarks=apply_affine(forward, landmarks), fill_mask=fill_mask,
        convention=convention, output_size=size, photo_size=(int(image.shape[1]), int(image.shape[0])),
        face_index=int(face_index), face_box=None if face_box is None else tuple(float(v) for v in face_box),
    )


def find_faces(
    image: np.ndarray,
    *,
    detect: DetectConfig = DetectConfig(),
    predictor_path: str | os.PathLike | None = None,
) -> tuple[list[DetectedFace], list[np.ndarray]]:
    """All faces left to right, with their 68 landmarks [68, 2] each."""
    faces = detect_faces(image, config=detect)
    marks = [predict_landmarks(image, f, predictor_path=predictor_path, face_px=detect.landmark_face_px) for f in faces]
    return faces, marks


def align_photo(
    image: np.ndarray,
    *,
    name: str = "photo",
    face: int | None = None,
    detect: DetectConfig = DetectConfig(),
    predictor_path: str | os.PathLike | None = None,
    **crop,
) -> AlignedFace:
    """Detect, pick `face` (index left to right; None = the largest) and crop it; `crop` takes
    align_face's output_size, convention, template and config.

    `name` is the photo's name in error messages (no face, face too small, bad index).
    """
    faces = detect_faces(image, config=detect)
    index = select_face(faces, face, name=name, config=detect)
    chosen = faces[index]
    landmarks = predict_landmarks(image, chosen, predictor_path=predictor_path, face_px=detect.landmark_face_px)
    logger.info("%s: face %d of %d at %s (score %.2f)", name, index, len(faces),
                tuple(int(round(v)) for v in chosen.box), chosen.score)
    return align_face(image, landmarks, face_index=index, face_box=chosen.box, **crop)


def align_all_faces(
    image: np.ndarray,
    *,
    name: str = "photo",
    detect: DetectConfig = DetectConfig(),
    predictor_path: str | os.PathLike | None = None,
    **crop,
) -> list[AlignedFace]:
    """Every face large enough, left to right; `crop` as align_photo's. No face at all is an error."""
    faces, marks = find_faces(image, detect=detect, predictor_path=predictor_path)
    if not faces:
        select_face(faces, None, name=name, config=detect)  # raises the one-line "no face" error
    out = []
    for index, (chosen, landmarks) in enumerate(zip(faces, marks)):
        if chosen.width < detect.min_face_px:
            logger.warning("%s: skipping face %d, only %.0f px wide", name, index, chosen.width)
            continue
        out.append(align_face(image, landmarks, face_index=index, face_box=chosen.box, **crop))
    if not out:
        select_face(faces, None, name=name, config=detect)  # raises "face too small"
    return out
