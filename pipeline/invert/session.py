"""Edit sessions: an inverted photo saved once, dragged again and again without inverting again.

A session is a folder:

    SESSION/
      session.json        the record (below); written last, so a folder without it is no session
      crop.png            the aligned crop, RGB uint8, S x S = the generator's resolution: the image
                          the inversion fitted; drag points are in its pixels
      latent.safetensors  'ws' [1, num_ws, w_dim] float32: the projection latent (the PTI pivot)
      tuned.safetensors   what turns the base generator into the tuned one, only tensors that
                          changed: 'noise/<buffer>' float32 noise maps, replaced whole (the
                          projector optimises them), and 'delta/<parameter>' float16 differences
                          (tuned - base) of the weights PTI changed. Apply: base + delta.float().

session.json: format, version; photo {path, sha256, size}; model {name, sha256, path, arch,
config, num_ws, w_dim, img_resolution}; transform (the align stage's JSON of the crop, passed in
by the caller; this module does not interpret it); settings (projection and PTI configs plus
the caller's own); results {projection, pti}: steps, stop reasons, final distances, per-step
losses, seconds; backbone (PerceptualDistance.info); storage {tuned_bytes,
full_generator_bytes, scheme}; files {name: sha256} of the three data files; integrity: sha256
of the canonical JSON of everything else.

Why float16 deltas: PTI moves weights by about lr x steps (< 0.2), so float16's 11-bit mantissa
on the delta costs ~1e-4 of it, far below what an 8-bit image shows (tests check the reloaded
generator renders the same image to > 45 dB); it halves the size of a full float32 copy and
skips the mapping network, which PTI never changes (measured sizes: see the bench and README).

Loading refuses, with one line naming the fix: a folder without a readable session.json,
another format or version, a session.json whose integrity hash does not match (edited), a data
file whose sha256 differs from the record (changed or swapped), and a generator other than the
one the session was made with (its sha256; for a generator without `model_info`, the sha256 of
its state dict). The integrity hash catches accidents and casual edits, not a forger (anyone
can recompute it).
"""
from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from pipeline.common import UserError
from pipeline.common.hashing import sha256_file
from pipeline.gan.interface import LatentGenerator

from .noise import noise_buffer_names
from .project import Projection
from .pti import TunedGenerator

logger = logging.getLogger(__name__)

FORMAT = "portrait-drag/edit-session"
VERSION = 1
RECORD = "session.json"
CROP = "crop.png"
LATENT = "latent.safetensors"
TUNED = "tuned.safetensors"
DATA_FILES = (CROP, LATENT, TUNED)
STORAGE_SCHEME = "changed tensors only: noise maps float32 whole, weights float16 delta"


@dataclass(frozen=True, eq=False)
class EditSession:
    """A loaded session: the tuned generator, the latent and the crop, ready to drag."""

    path: Path  # the session folder
    ws: torch.Tensor  # [1, num_ws, w_dim] float32 on the session's device
    crop: np.ndarray  # [S, S, 3] uint8 RGB, the aligned crop (drag points are in its pixels)
    transform: dict | None  # the align stage's JSON of the crop transform, as saved
    photo: dict  # path, sha256, size of the original photo
    record: dict = field(repr=False)  # all of session.json
    _generator: LatentGenerator = field(repr=False, default=None)

    def generator(self) -> LatentGenerator:
        """The tuned generator (eval, no gradients) that renders `ws` as the crop."""
        return self._generator


def model_fingerprint(G: LatentGenerator) -> str:
    """The checkpoint's sha256 from the loader, or the sha256 of the state dict for a bare module."""
    digest = (getattr(G, "model_info", None) or {}).get("sha256")
    return digest or "state_dict:" + state_dict_sha256(G)


def state_dict_sha256(G: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, tensor in G.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{list(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


def session_model(path: str | os.PathLike) -> dict:
    """The `model` entry of a session's record (name, path, sha256, ...), to pick the generator to load."""
    return _read_record(Path(path))["model"]


def session_model_ref(path: str | os.PathLike) -> str:
    """What to pass to the generator loader for this session: its model file if still there, else its name."""
    model = session_model(path)
    file = model.get("path")
    return file if file and Path(file).is_file() else str(model.get("name"))


def check_session_destination(path: str | os.PathLike) -> None:
    """UserError unless `path` is free, an empty folder or an older session (which saving replaces)."""
    path = Path(path)
    if path.exists() and not (path.is_dir() and (not any(path.iterdir()) or (path / RECORD).is_file())):
        raise UserError(f"{path} exists and is not an edit session: choose another -o folder")


def save_session(
    path: str | os.PathLike,
    *,
    G: LatentGenerator,
    crop: np.ndarray,
    projection: Projection,
    tuned: TunedGenerator | None = None,
    photo_path: str | os.PathLike | None = None,
    transform: dict | None = None,
    settings: dict | None = None,
) -> Path:
    """Write a session folder for the base generator G (not the tuned one); replaces an older session there.

    crop: [S, S, 3] uint8, S = G.img_resolution. Written into a temporary sibling folder and
    moved into place at the end, so an interrupted save leaves no half-written session.
    """
    # 1. Check inputs and the destination.
    path = Path(path)
    S = G.img_resolution
    if crop.dtype != np.uint8 or crop.shape != (S, S, 3):
        raise ValueError(f"crop must be [{S}, {S}, 3] uint8 for this generator, got {crop.dtype} {crop.shape}")
    G.check_ws(projection.ws)
    check_session_destination(path)
    photo = {"path": None, "sha256": None}
    if photo_path is not None:
        photo = {"path": str(Path(photo_path).resolve()), "sha256": sha256_file(photo_path)}

    # 2. Tensors: latent, and what changed in the generator.
    ws = (tuned.ws if tuned is not None else projection.ws).detach().cpu().float().contiguous()
    changes = _changed_tensors(G, tuned.G if tuned is not None else projection.generator(G))
    full_bytes = sum(t.numel() * 4 for t in G.state_dict().values() if t.is_floating_point())

    # 3. Files, in a temporary folder beside the destination.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent))
    try:
        Image.fromarray(np.ascontiguousarray(crop)).save(tmp / CROP, format="PNG")
        save_file({"ws": ws}, str(tmp / LATENT), metadata={"format": FORMAT})
        save_file(changes, str(tmp / TUNED), metadata={"format": FORMAT, "scheme": STORAGE_SCHEME})
        tuned_bytes = (tmp / TUNED).stat().st_size
        record = {
            "format": FORMAT,
            "version": VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "photo": {**photo, "size": None if transform is None else transform.get("photo_size")},
            "model": _model_record(G),
            "transform": transform,
            "settings": {"projection": projection.config, "pti": None if tuned is None else tuned.config,
                         **(settings or {})},
            "results": {"projection": projection.report(), "pti": None if tuned is None else tuned.report()},
            "backbone": projection.backbone,
            "storage": {"scheme": STORAGE_SCHEME, "tuned_bytes": tuned_bytes, "full_generator_bytes": full_bytes,
                        "tensors": len(changes)},
            "files": {name: sha256_file(tmp / name) for name in DATA_FILES},
        }
        record["integrity"] = _integrity(record)
        (tmp / RECORD).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        _set_default_modes(tmp)
        _publish(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("session %s: tuned weights %.2f MiB (full generator %.2f MiB, %s)", path,
                tuned_bytes / 2**20, full_bytes / 2**20, STORAGE_SCHEME)
    return path


def load_session(path: str | os.PathLike, *, G: LatentGenerator, device: torch.device) -> EditSession:
    """Load a session made with G (the base generator); refuse other models and changed files."""
    # 1. The record and the files it vouches for.
    path = Path(path)
    record = _read_record(path)
    for name in DATA_FILES:
        file = path / name
        if not file.is_file():
            raise UserError(f"{file} is missing: the session is incomplete; invert the photo again")
        if sha256_file(file) != record["files"].get(name):
            raise UserError(f"{file} was changed after the session was saved (sha256 differs); invert the photo again")

    # 2. The generator it was made with.
    model = record["model"]
    if model_fingerprint(G) != model.get("sha256"):
        which = G.model_info.get("name") or "this generator"
        raise UserError(
            f"{path} was made with model {model.get('name')} (sha256 {str(model.get('sha256'))[:12]}...), "
            f"not with {which}: pass --model {model.get('path') or model.get('name')}"
        )

    # 3. Tensors into a copy of G.
    ws = load_file(str(path / LATENT))["ws"]
    G.check_ws(ws)
    tuned = copy.deepcopy(G).to(device)
    _apply_changes(tuned, load_file(str(path / TUNED)), path / TUNED)
    tuned.eval().requires_grad_(False)
    with Image.open(path / CROP) as img:
        crop = np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
    return EditSession(path=path, ws=ws.to(device), crop=crop, transform=record.get("transform"),
                       photo=record.get("photo", {}), record=record, _generator=tuned)


# ---- internals ------------------------------------------------------------------------------
def _model_record(G: LatentGenerator) -> dict:
    info = getattr(G, "model_info", None) or {}
    return {"name": info.get("name"), "sha256": model_fingerprint(G), "path": info.get("path"), "arch": G.arch,
            "config": G.config_dict(), "num_ws": G.num_ws, "w_dim": G.w_dim, "img_resolution": G.img_resolution}


def _changed_tensors(base: LatentGenerator, tuned: LatentGenerator) -> dict[str, torch.Tensor]:
    noise = set(noise_buffer_names(base))
    before = base.state_dict()
    out: dict[str, torch.Tensor] = {}
    for name, after in tuned.state_dict().items():
        a, b = after.detach().cpu(), before[name].detach().cpu()
        if torch.equal(a, b):
            continue
        if name in noise:
            out[f"noise/{name}"] = a.float().contiguous()
        elif a.is_floating_point():
            delta = (a.float() - b.float()).half()
            if not torch.isfinite(delta).all():
                raise ValueError(f"tuned weight {name} moved too far to store as a float16 delta")
            out[f"delta/{name}"] = delta.contiguous()
        else:
            raise ValueError(f"tuned generator changed a non-float tensor {name}")
    return out


def _apply_changes(G: LatentGenerator, changes: dict[str, torch.Tensor], file: Path) -> None:
    state = G.state_dict()
    with torch.no_grad():
        for key, value in changes.items():
            kind, _, name = key.partition("/")
            if kind not in ("noise", "delta") or name not in state or state[name].shape != value.shape:
                raise UserError(f"{file}: entry '{key}' does not fit the generator; invert the photo again")
            target = state[name]
            if kind == "noise":
                target.copy_(value)
            else:
                target.add_(value.to(target.device, target.dtype))


def _integrity(record: dict) -> str:
    body = {k: v for k, v in record.items() if k != "integrity"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _read_record(path: Path) -> dict:
    file = path / RECORD
    if not file.is_file():
        raise UserError(f"{path} is not an edit session (no {RECORD}): make one with 'cli.py invert PHOTO -o {path}'")
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{file} is unreadable ({exc}); invert the photo again") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise UserError(f"{file} is not an edit-session record; invert the photo again")
    if record.get("version") != VERSION:
        raise UserError(f"{file}: session version {record.get('version')} is not supported; invert the photo again")
    if record.get("integrity") != _integrity(record):
        raise UserError(
            f"{file} was edited after the session was saved (integrity hash differs); invert the photo again"
        )
    return record


def _set_default_modes(folder: Path) -> None:
    """mkdtemp makes the folder private (0700); give it and its files the user's usual modes."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)
    for file in folder.iterdir():
        os.chmod(file, 0o666 & ~umask)


def _publish(tmp: Path, path: Path) -> None:
    """Move the finished folder `tmp` to `path`, replacing an older session there."""
    if not path.exists():
        os.replace(tmp, path)
        return
    old = path.with_name(f".{path.name}.old-{os.getpid()}")
    os.replace(path, old)
    try:
        os.replace(tmp, path)
    except OSError:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)
