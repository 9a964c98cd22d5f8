"""Real photos, detected and aligned once per session (dlib is the slow part)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.align import align_face, find_faces
from pipeline.common.images import read_photo

PHOTO_DIR = Path(__file__).resolve().parents[1] / "data" / "photos"
PHOTO_NAMES = ("astronaut.png", "grace_hopper.jpg", "portrait_a.jpg", "portrait_b.jpg", "messi5.jpg")


@pytest.fixture(scope="session")
def photos():
    """name -> Photo (upright RGB uint8)."""
    return {name: read_photo(PHOTO_DIR / name) for name in PHOTO_NAMES}


@pytest.fixture(scope="session")
def detections(photos):
    """name -> (faces left to right, their landmarks [68, 2])."""
    return {name: find_faces(photo.pixels) for name, photo in photos.items()}


@pytest.fixture(scope="session")
def aligned512(photos, detections):
    """name -> AlignedFace of the photo's one face, FFHQ crop at 512 px."""
    return {name: align_face(photos[name].pixels, detections[name][1][0], 512, "ffhq") for name in photos}
