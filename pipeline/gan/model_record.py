"""What a report says about the generator it used."""
from __future__ import annotations

from .interface import LatentGenerator

RECORDED_INFO = ("name", "format", "sha256", "path", "crop_convention", "license")  # model_info keys worth a report line


def model_record(G: LatentGenerator) -> dict:
    """Name, format, sha256 and path as its loader set them, plus the architecture and sizes."""
    info = {k: v for k, v in (G.model_info or {}).items() if k in RECORDED_INFO}
    return {**info, "arch": G.arch, "img_resolution": G.img_resolution, "num_ws": G.num_ws}
