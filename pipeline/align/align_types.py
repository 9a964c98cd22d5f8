"""Typed results and settings of the align stage."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from .landmark_names import face_frame

Convention = Literal["ffhq", "template"]
CONVENTIONS: tuple[str, ...] = ("ffhq", "template")
DETECTORS: tuple[str, ...] = ("auto", "hog", "cnn")


@dataclass(frozen=True, kw_only=True)
class DetectConfig:
    detector: str = "auto"       # auto: HOG and dlib's CNN, hits merged; hog: HOG only (fast); cnn: CNN only
    upsample: int = 1            # dlib pyramid upsamplings (each doubles the detection image; finds smaller faces)
    cnn_max_side: int = 480      # px; the CNN sees a copy no larger (1.0 s on 2 cores; faces from ~1/6 of the side)
    cnn_min_confidence: float = 0.5  # MMOD confidence; real faces measured 1.01-1.10, so 0.5 keeps them all
    max_side: int = 1024         # px; larger photos are detected on a copy reduced to this longest side
    min_score: float = 0.3       # dlib score; weaker hits are dropped unless nothing stronger is found
    refine: bool = True          # re-detect each face around its coarse box at (up to) full resolution
    min_face_px: int = 32        # px; a chosen face whose box is narrower is refused as too small
    landmark_face_px: int = 256  # px; landmarks are predicted on a copy where the face box is at most this wide


@dataclass(frozen=True, kw_only=True)
class AlignConfig:
    supersample: int = 4   # bilinear sampling at this multiple of the output size, then Lanczos down (FFHQ: 4)


@dataclass(frozen=True)
class DetectedFace:
    box: tuple[float, float, float, float]  # (left, top, right, bottom) in photo px, dlib's inclusive corners
    score: float                            # dlib detection score (higher = more face-like)
    source: str = "hog"                     # detector that found it: 'hog' or 'cnn' (box mapped to HOG's)

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0] + 1.0

    @property
    def area(self) -> float:
        return self.width * (self.box[3] - self.box[1] + 1.0)

    @property
    def centre_x(self) -> float:
        return 0.5 * (self.box[0] + self.box[2])


@dataclass(frozen=True, eq=False)
class AlignedFace:
    """A face cropped for the generator, and everything needed to map back into the photo.

    All points are (x, y) pixel-index coordinates (see geometry.py for the convention).
    """

    crop: np.ndarray             # [S, S, 3] uint8 RGB
    quad: np.ndarray             # [4, 2] float64 photo px: crop's outer corners TL, BL, BR, TR
    crop_from_photo: np.ndarray  # [2, 3] float64 affine, photo (x, y) -> crop (x, y)
    photo_from_crop: np.ndarray  # [2, 3] float64 affine, crop (x, y) -> photo (x, y)
    landmarks: np.ndarray        # [68, 2] float64 dlib landmarks in photo px
    crop_landmarks: np.ndarray   # [68, 2] float64 the same landmarks in crop px
    fill_mask: np.ndarray        # [S, S] float32 in [0, 1]; 1 where the crop pixel is padding fill, not photo
    convention: str              # 'ffhq' | 'template'
    output_size: int             # S
    photo_size: tuple[int, int]  # (width, height) of the photo the crop came from
    face_index: int              # index among the photo's faces, left to right
    face_box: tuple[float, float, float, float] | None  # detector box (left, top, right, bottom), photo px

    @cached_property
    def frame(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The face's own frame in photo px: (x axis, y axis, inter-ocular distance); landmark_names.face_frame."""
        return face_frame(self.landmarks)

    @property
    def inter_ocular_px(self) -> float:
        """Distance between the eye centres, photo px: the unit of every landmark offset."""
        return self.frame[2]

    @property
    def crop_inter_ocular_px(self) -> float:
        """The same distance in crop px."""
        return self.frame[2] * self.scale

    @property
    def scale(self) -> float:
        """Crop px per photo px (> 1: the crop has more pixels than the face has in the photo)."""
        return float(np.sqrt(abs(np.linalg.det(self.crop_from_photo[:, :2]))))
