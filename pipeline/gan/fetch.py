"""Download a registry checkpoint: resumable (HTTP Range into `<file>.part`), verified, atomic.

The final file appears only once it is complete and its sha256 matched (when the registry
knows it); an interrupted download leaves `<file>.part`, which the next call resumes.
"""
from __future__ import annotations

import http.client
import logging
import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from ..common import UserError
from ..common.hashing import CHUNK_BYTES, sha256_file
from .registry import CheckpointEntry, cache_dir

log = logging.getLogger(__name__)

TIMEOUT_S = 30.0  # per socket operation, not for the whole download
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError)


def _by_hand(entry: CheckpointEntry, dest: Path, reason: str) -> UserError:
    reason = " ".join(str(reason).split())  # the CLI prints errors as a single line
    return UserError(
        f"download of {entry.name} failed ({reason}); download {entry.url} by hand and put it at {dest}"
    )


def _verify(entry: CheckpointEntry, path: Path, dest: Path, *, ours: bool) -> str:
    """sha256 of `path`; raises when size or hash contradict the registry.

    A bad file we downloaded (`ours`) is deleted; one that was already there is left alone.
    """
    size = path.stat().st_size
    digest = sha256_file(path) if entry.size_bytes is None or size == entry.size_bytes else None
    if digest is not None and (entry.sha256 is None or digest == entry.sha256.lower()):
        if entry.sha256 is None:
            log.info("sha256 %s  %s (not in the registry yet: record it there)", digest, dest.name)
        return digest
    found = f"{size} bytes, expected {entry.size_bytes}" if digest is None else f"sha256 {digest}, expected {entry.sha256}"
    if ours:
        path.unlink()
        raise UserError(f"{entry.name}: sha256 mismatch or wrong size ({found}); deleted the download, run the fetch again or put a verified copy at {dest}")
    raise UserError(f"{dest} is not a valid copy of {entry.name} ({found}): delete it and run the fetch again")


def _open(entry: CheckpointEntry, offset: int):
    headers = {"User-Agent": "portrait-drag"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    return urllib.request.urlopen(urllib.request.Request(entry.url, headers=headers), timeout=TIMEOUT_S)


def _download(entry: CheckpointEntry, part: Path, dest: Path, progress: bool) -> None:
    """Append the missing bytes to `part`; restarts from zero when the server ignores Range."""
    offset = part.stat().st_size if part.exists() else 0
    try:
        response = _open(entry, offset)
    except urllib.error.HTTPError as exc:
        if exc.code != 416 or not offset:  # 416: our .part is not a prefix the server accepts
            raise _by_hand(entry, dest, f"HTTP {exc.code} {exc.reason}") from exc
        log.info("cannot resume %s (HTTP 416); starting over", part.name)
        part.unlink()
        return _download(entry, part, dest, progress)
    except _NETWORK_ERRORS as exc:
        raise _by_hand(entry, dest, str(getattr(exc, "reason", exc))) from exc
    with response:
        status = getattr(response, "status", 200)
        if offset and status != 206:
            log.info("server ignored the resume request for %s; starting over", part.name)
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else entry.size_bytes
        if offset:
            log.info("resuming %s at %d bytes", part.name, offset)
        with open(part, "ab" if offset else "wb") as f, tqdm(
            total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
            desc=entry.name, disable=not progress, leave=False,
        ) as bar:
            try:
                for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
            except _NETWORK_ERRORS as exc:
                raise _by_hand(entry, dest, f"connection lost after {f.tell()} bytes ({exc}); rerun to resume") from exc
    got = part.stat().st_size
    if total is not None and got != total:
        raise _by_hand(entry, dest, f"incomplete: {got} of {total} bytes; rerun to resume")


def fetch_checkpoint(entry: CheckpointEntry, *, dest_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """Path of the entry's file in `dest_dir` (default: the cache folder), downloading it if absent."""
    if entry.url is None:
        raise UserError(f"{entry.name} ships with the program, there is nothing to download")
    dest_dir = Path(dest_dir) if dest_dir is not None else cache_dir()
    dest = dest_dir / entry.filename
    if dest.is_file():
        _verify(entry, dest, dest, ours=False)
        log.info("%s is already at %s", entry.name, dest)
        return dest
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the folder {dest_dir} for {entry.name} ({exc}): choose another with --dir") from exc
    part = dest.with_name(dest.name + ".part")
    log.info("downloading %s from %s", entry.name, entry.url)
    _download(entry, part, dest, progress)
    _verify(entry, part, dest, ours=True)
    os.replace(part, dest)
    log.info("saved %s to %s", entry.name, dest)
    return dest


__all__ = ["fetch_checkpoint"]
