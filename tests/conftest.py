"""Shared test fixtures: the StyleGAN2 reference files, unpacked once per session and verified."""
from __future__ import annotations

import hashlib
import lzma
import tarfile
from pathlib import Path

import pytest
import torch

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
