"""Edit sessions in an edit: reuse an earlier inversion of the same photo, or save this one.

A session (pipeline/invert/session.py) holds the latent, the tuned weights, the crop and the
crop's transform; reusing it skips detection and inversion, the slow part of an edit.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from pipeline.align import AlignedFace, aligned_from_json, aligned_to_json
from pipeline.common import UserError
from pipeline.common.hashing import sha256_file
from pipeline.gan.interface import LatentGenerator
from pipeline.common.image_tensors import tensor_to_image
from pipeline.invert.session import RECORD, load_session, save_session

from .edit_types import Inversion


def is_session(path: str | os.PathLike) -> bool:
    return (Path(path) / RECORD).is_file()


def load_edit_session(
    path: str | os.PathLike, photo: np.ndarray, photo_path: str | os.PathLike | None, G: LatentGenerator,
    *, device: torch.device,
) -> tuple[AlignedFace, Inversion]:
    """The aligned face and inversion stored in session `path`, checked to belong to this photo."""
    path = Path(path)
    session = load_session(path, G=G, device=device)  # refuses another model or changed files
    made_from = (session.photo or {}).get("sha256")
    if photo_path is not None and made_from is not None and made_from != sha256_file(photo_path):
        raise UserError(f"session {path} was made from another photo ({session.photo.get('path')}); "
                        "use a new --session folder for this one")
    if not session.transform:
        raise UserError(f"session {path} has no crop transform, so it cannot be pasted back; make it again with edit")
    aligned = aligned_from_json(photo, session.transform, name=str(path / RECORD))
    if aligned.output_size != G.img_resolution or not np.array_equal(aligned.crop, session.crop):
        raise UserError(f"session {path} does not match this photo's pixels; use a new --session folder")
    G_tuned = session.generator()
    with torch.no_grad():
        image = G_tuned.synthesis(session.ws.to(device), noise_mode="const")  # [1, 3, S, S]
    results = session.record.get("results") or {}
    report = {k: {kk: vv for kk, vv in (v or {}).items() if kk != "losses"} for k, v in results.items() if v}
    backbone = (session.record.get("backbone") or {}).get("name", "unknown")
    inversion = Inversion(G=G_tuned, ws=session.ws, reconstruction=tensor_to_image(image), report=report,
                          seconds={"invert": 0.0, "pti": 0.0}, backbone=backbone,
                          tuned=results.get("pti") is not None, session=path)
    return aligned, inversion


def save_edit_session(
    path: str | os.PathLike, G: LatentGenerator, aligned: AlignedFace, inversion: Inversion,
    *, photo_path: str | os.PathLike | None, settings: dict | None = None,
) -> Path:
    """Write `inversion` of `aligned` as a session (G is the BASE generator, not the tuned copy)."""
    if inversion.projection is None:
        raise ValueError("only an inversion made in this run can be saved as a session")
    transform = {"crop": "crop.png", **aligned_to_json(aligned)}
    return save_session(path, G=G, crop=aligned.crop, projection=inversion.projection, tuned=inversion.pti,
                        photo_path=photo_path, transform=transform, settings=settings)
