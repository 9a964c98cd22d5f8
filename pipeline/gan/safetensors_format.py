"""Our generator file: a safetensors file whose metadata says how to rebuild the module.

Layout: the tensors of `G.state_dict()` (floating tensors as contiguous float32 CPU copies,
others unchanged) and string metadata:
  format          "portrait-drag-generator"
  format_version  "1"
  arch            registry key of the architecture ('stylegan2', 'mobilestylegan', 'dcgan')
  config          JSON of G.config_dict(), what build_generator(arch, config) needs
  drag_lr         the drag learning rate the model family wants, e.g. "0.002"
plus optional entries such as name, crop_convention, landmark_template (JSON), source, license.
Loading it executes nothing: safetensors is tensors and a JSON header.
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ..common import UserError, write_atomic
from .architectures import ARCHITECTURES
from .interface import LatentGenerator

FORMAT_NAME = "portrait-drag-generator"
FORMAT_VERSION = "1"
RESERVED_KEYS = ("format", "format_version", "arch", "config", "drag_lr")
# A safetensors header is a JSON object; anything much larger than this is not one of ours.
_MAX_HEADER_BYTES = 100 * 1024 * 1024


def save_generator(G: LatentGenerator, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
    """Write G's weights and rebuild recipe to `path` atomically; returns the path."""
    extra = dict(metadata or {})
    clash = sorted(set(extra) & set(RESERVED_KEYS))
    if clash:
        raise ValueError(f"metadata keys {clash} are written by save_generator itself")
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "arch": G.arch,
        "config": json.dumps(G.config_dict()),
        "drag_lr": repr(float(G.default_drag_lr)),
    }
    # safetensors metadata values must be strings; anything else is stored as JSON.
    header.update({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in extra.items()})
    tensors = {}
    for name, t in G.state_dict().items():
        t = t.detach().to("cpu")
        # clone: safetensors refuses tensors sharing memory, and we must not alias live weights.
        tensors[name] = (t.to(torch.float32) if t.is_floating_point() else t).contiguous().clone()
    return write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=header))


def is_safetensors_file(path: str | os.PathLike) -> bool:
    """True when the file starts like a safetensors file: u64 header length, then '{'."""
    try:
        with open(path, "rb") as f:
            head = f.read(9)
            size = os.fstat(f.fileno()).st_size
    except OSError:
        return False
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return head[8:9] == b"{" and 0 < n <= min(size - 8, _MAX_HEADER_BYTES)


def read_generator_file(path: str | os.PathLike) -> tuple[str, dict, dict[str, torch.Tensor], dict[str, str]]:
    """(arch, config_dict, state_dict, metadata) of a file written by save_generator."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"generator file {path} does not exist")
    if not is_safetensors_file(path):
        raise UserError(f"{path} is not a safetensors file: convert checkpoints with 'python cli.py weights convert'")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            metadata = dict(f.metadata() or {})
            state_dict = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises its own SafetensorError (and OSError) for bad files
        raise UserError(f"{path} is a truncated or corrupt safetensors file ({exc})") from exc
    fmt = metadata.get("format")
    if fmt != FORMAT_NAME:
        raise UserError(
            f"{path} is a safetensors file but not a portrait-drag generator (metadata format is {fmt!r}): "
            "convert the original checkpoint with 'python cli.py weights convert'"
        )
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise UserError(f"{path} has generator format version {version!r}; this program reads version {FORMAT_VERSION}")
    arch = metadata.get("arch")
    if arch not in ARCHITECTURES:
        raise UserError(f"{path} has unknown architecture {arch!r}: known are {', '.join(ARCHITECTURES)}")
    try:
        config = json.loads(metadata["config"])
        if "drag_lr" in metadata:
            float(metadata["drag_lr"])
    except (KeyError, ValueError) as exc:
        raise UserError(f"{path} has a missing or unreadable 'config'/'drag_lr' entry in its metadata") from exc
    if not isinstance(config, dict):
        raise UserError(f"{path}: its 'config' metadata is not a JSON object")
    return arch, config, state_dict, metadata


__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "is_safetensors_file", "read_generator_file", "save_generator"]
