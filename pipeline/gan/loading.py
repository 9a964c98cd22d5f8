"""Load a generator from a registry name or a file, whatever its format, without executing it.

Formats are told apart by content, not by extension:
  - pickle protocol 2-5 (0x80 first byte): NVIDIA network pickle -> whitelist reader;
  - safetensors header (u64 length, then '{'): our generator file;
  - zip (torch.save): refused, it carries no architecture we could trust.
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import torch

from ..common import UserError
from .architectures import build_generator
from ..common.hashing import sha256_file
from .interface import LatentGenerator
from .network_pickle import read_network_pickle
from .registry import REGISTRY, CheckpointEntry, default_path, entry_for_file, find_cached
from .safetensors_format import is_safetensors_file, read_generator_file

log = logging.getLogger(__name__)

DEFAULT_MODEL = "mobilestylegan-ffhq-1024"
FALLBACK_DRAG_LR = 1e-3  # DragGAN's rate for every family not listed with 2e-3
CROP_CONVENTIONS = ("ffhq", "template")
NUM_LANDMARKS = 68


def resolve_model_arg(value: str | None) -> str:
    """The --model value, or the default model (announced once at INFO) when none was given."""
    if value:
        return value
    log.info("using the default model %s (MobileStyleGAN, FFHQ 1024 px; non-commercial weights)", DEFAULT_MODEL)
    return DEFAULT_MODEL


def sniff_format(path: str | os.PathLike) -> str:
    """'network-pickle' | 'safetensors' | 'zip' | 'unknown', from the file's first bytes."""
    with open(path, "rb") as f:
        head = f.read(4)
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "network-pickle"
    if head == b"PK\x03\x04":
        return "zip"
    if is_safetensors_file(path):
        return "safetensors"
    return "unknown"


def resolve_model_path(path_or_name: str | os.PathLike) -> tuple[Path, CheckpointEntry | None]:
    """(file, registry entry or None) for a path or a registry name."""
    text = os.fspath(path_or_name)
    path = Path(text).expanduser()
    if path.is_file():
        return path, None
    entry = REGISTRY.get(text)
    if entry is None:
        if path.exists():
            raise UserError(f"{path} is not a file: pass a checkpoint file or a model name from 'python cli.py weights list'")
        raise UserError(f"no file or known model named '{text}': see 'python cli.py weights list' for names")
    if entry.from_package:
        from .package_models import ensure_converted

        return ensure_converted(entry), entry
    cached = find_cached(entry)
    if cached is not None:
        return cached, entry
    if entry.bundled:
        raise UserError(
            f"the demo model file {default_path(entry)} is missing: restore it from the repository, "
            "or pass --model with a checkpoint"
        )
    raise UserError(
        f"model {entry.name} is not downloaded: run 'python cli.py weights fetch {entry.name}' "
        f"or put {entry.filename} at {default_path(entry)} (from {entry.url})"
    )


def _parse_landmark_template(text: str | None, path: Path) -> list | None:
    if text is None:
        return None
    try:
        points = json.loads(text)
        ok = len(points) == NUM_LANDMARKS and all(len(p) == 2 for p in points)
        points = [[float(x), float(y)] for x, y in points] if ok else None
    except (ValueError, TypeError):
        points = None
    if points is None:
        raise UserError(f"{path}: its landmark_template metadata is not a JSON list of {NUM_LANDMARKS} [x, y] pairs")
    return points


def _load_state(G: LatentGenerator, state_dict: dict, path: Path) -> None:
    try:
        G.load_state_dict(state_dict, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        detail = " ".join(first[1:3]) if len(first) > 1 else str(exc)
        raise UserError(f"{path}: the weights do not fit the generator they describe ({detail.strip()})") from exc


def load_generator(path_or_name: str | os.PathLike, *, device: torch.device | str) -> LatentGenerator:
    """A ready generator (eval mode, no gradients, on `device`) with `model_info` filled in."""
    # 1. Find the file and its registry entry.
    path, entry = resolve_model_path(path_or_name)
    sha256 = sha256_file(path)
    if entry is None:
        entry = entry_for_file(path, sha256)
    if entry is not None and entry.sha256 is not None and entry.sha256 != sha256:
        raise UserError(f"{path} does not match the registry's sha256 for {entry.name}: delete it and fetch it again")

    # 2. Read the weights according to the content.
    fmt = sniff_format(path)
    metadata: dict[str, str] = {}
    if fmt == "network-pickle":
        from .stylegan2 import StyleGAN2Generator

        pkl = read_network_pickle(path)
        G: LatentGenerator = StyleGAN2Generator(pkl.config)
        _load_state(G, pkl.state_dict, path)
        flavour: str | None = pkl.flavour
    elif fmt == "safetensors":
        arch, config, state_dict, metadata = read_generator_file(path)
        try:
            G = build_generator(arch, config)
        except (ValueError, TypeError) as exc:
            raise UserError(f"{path}: its config cannot build a '{arch}' generator ({exc})") from exc
        _load_state(G, state_dict, path)
        flavour = metadata.get("flavour")
    elif fmt == "zip":
        raise UserError(
            f"{path} is a torch.save (zip) checkpoint, which we do not load: use an NVIDIA network pickle "
            "or convert to our format with 'python cli.py weights convert'"
        )
    else:
        raise UserError(f"{path} is neither a network pickle nor a safetensors generator file")

    # 3. Describe where it came from and how photos must be cropped for it.
    crop = metadata.get("crop_convention", "ffhq")
    if crop not in CROP_CONVENTIONS:
        raise UserError(f"{path}: unknown crop_convention '{crop}' (expected one of {', '.join(CROP_CONVENTIONS)})")
    template = _parse_landmark_template(metadata.get("landmark_template"), path)
    if crop == "template" and template is None:
        raise UserError(f"{path}: crop_convention 'template' needs a landmark_template in the metadata")
    if entry is not None:
        G.default_drag_lr = entry.drag_lr
    elif "drag_lr" in metadata:
        G.default_drag_lr = float(metadata["drag_lr"])
    else:
        G.default_drag_lr = FALLBACK_DRAG_LR
    G.model_info = {
        "name": entry.name if entry is not None else metadata.get("name", path.stem),
        "format": fmt,
        "flavour": flavour,
        "sha256": sha256,
        "path": str(path),
        "crop_convention": crop,
        "landmark_template": template,
        "license": entry.license if entry is not None and entry.license else metadata.get("license", ""),
        "source": metadata.get("source", ""),
    }
    log.debug("loaded %s (%s) from %s", G.model_info["name"], fmt, path)
    return G.eval().requires_grad_(False).to(device)


__all__ = ["DEFAULT_MODEL", "load_generator", "resolve_model_arg", "resolve_model_path", "sniff_format"]
