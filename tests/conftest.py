"""Shared test fixtures: the StyleGAN2 reference files, unpacked once per session and verified."""
from __future__ import annotations

import hashlib
import lzma
import tarfile
from pathlib import Path

import pytest
import torch

from pipeline.align import align_face, find_faces
from pipeline.common.images import read_photo
from pipeline.gan import build_generator
from pipeline.gan.stylegan2 import StyleGAN2Config

DATA = Path(__file__).parent / "data"
FIXTURE_ARCHIVES = ("weights-and-pickles.tar.xz", "goldens.tar.xz")


@pytest.fixture(scope="session", autouse=True)
def _deterministic_torch():
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


@pytest.fixture(scope="session")
def stylegan2_fixtures(tmp_path_factory) -> Path:
    """Folder holding generator_state_dict.pt, golden.pt, generator_config.json and the pickles."""
    src = DATA / "stylegan2-fixtures"
    out = tmp_path_factory.mktemp("stylegan2-fixtures")
    for name in FIXTURE_ARCHIVES:
        with lzma.open(src / name) as xz, tarfile.open(fileobj=xz, mode="r|") as tar:
            tar.extractall(out, filter="data")
    for line in (src / "SHA256SUMS").read_text().splitlines():
        digest, fname = line.split()
        actual = hashlib.sha256((out / fname).read_bytes()).hexdigest()
        assert actual == digest, f"fixture {fname} is corrupt"
    return out


@pytest.fixture(scope="session")
def tiny_G():
    """32 px random-weight StyleGAN2 (8 ws): fast, for behaviour tests that need no convergence."""
    torch.manual_seed(0)
    cfg = StyleGAN2Config(z_dim=32, w_dim=32, img_resolution=32, mapping_layers=2, channel_base=512, channel_max=32)
    return build_generator("stylegan2", cfg.to_dict()).eval()


# ---- real photos, detected and aligned once per session (dlib is the slow part) ----------
PHOTO_DIR = DATA / "photos"
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
