"""Registry models that come from an installed package's data files (MobileStyleGAN of `random-face`).

They are converted once into the cache folder (`registry.cache_dir()`, the same rules as
`weights fetch`) under a name keyed by the sha256 of the package's files; every later load
finds that file by the same key.
"""
from __future__ import annotations

from pathlib import Path

from ..common import UserError
from .mobilestylegan.ir_conversion import (check_digest, convert_into, converted_path, ir_sha256,
                                           package_ir_folder)
from .registry import CheckpointEntry, cache_dir, search_folders


def find_converted(entry: CheckpointEntry) -> Path | None:
    """The entry's converted file, or None (not converted yet, or the package is absent).

    A conversion of the registry's pinned files is found by name alone: no package, no hashing.
    """
    if entry.source_sha256 is not None:
        found = _search(entry, entry.source_sha256)
        if found is not None:
            return found
    try:
        folder = package_ir_folder()
    except UserError:
        return None
    return _search(entry, ir_sha256(folder))


def ensure_converted(entry: CheckpointEntry) -> Path:
    """The entry's converted file, converting the package's files into the cache folder when needed."""
    if entry.source_sha256 is not None:
        found = _search(entry, entry.source_sha256)
        if found is not None:
            return found
    folder = package_ir_folder()  # raises with the pip command when the package is missing
    digest = ir_sha256(folder)
    check_digest(digest, entry.source_sha256, folder)
    found = _search(entry, digest)
    if found is not None:
        return found
    return convert_into(converted_path(cache_dir(), digest, entry.filename), ir_folder=folder, digest=digest,
                        name=entry.name, drag_lr=entry.drag_lr)


def is_conversion_of(entry: CheckpointEntry, path: Path) -> bool:
    """Whether a file name is one of the entry's conversions ('<filename>.<16 hex>.safetensors')."""
    head, _, rest = path.name.partition(".")
    key, _, suffix = rest.partition(".")
    return entry.from_package and head == entry.filename and suffix == "safetensors" and len(key) == 16


def _search(entry: CheckpointEntry, digest: str) -> Path | None:
    for folder in search_folders():
        path = converted_path(folder, digest, entry.filename)
        if path.is_file():
            return path
    return None
