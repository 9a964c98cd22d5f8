"""Run one per-photo function over a folder: resumable, failure-tolerant, optionally in parallel.

Layout of OUT_DIR:
    <relative path of each photo>     the edited photo (written atomically by the worker)
    reports/<relative path>.json      one record per photo: status, reason, per-face rows
    summary.csv                       one row per photo and face, rebuilt after every photo
    batch.json                        the settings the folder was made with (a re-run must match)

A photo counts as finished when its output exists (outputs are only ever renamed into place
complete), or when its record says it failed and the input file is unchanged (re-run with
`retry_failed` to try those again). So a batch killed at any moment resumes where it was, and a
re-run of a finished batch does nothing. One photo's failure (any exception) is recorded with a
one-line reason and the batch goes on; only KeyboardInterrupt stops it.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol

from tqdm.auto import tqdm

from pipeline.common import UserError, write_json_atomic

from .batch_summary import write_summary

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff")
REPORTS_DIR = "reports"
MANIFEST = "batch.json"
SUMMARY = "summary.csv"

STATUS_DONE = "done"        # every face edited
STATUS_PARTIAL = "partial"  # some faces edited, some failed (the output holds the edited ones)
STATUS_FAILED = "failed"    # nothing written for this photo
RECORD_FORMAT = "portrait-drag/batch-record"
_PART_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.part(\.[A-Za-z0-9]+)?$")


@dataclass(frozen=True)
class BatchJob:
    source: Path  # the input photo
    name: str     # its path relative to INPUT_DIR (posix), used in messages and the summary
    output: Path  # the edited photo
    record: Path  # the photo's JSON record


class PhotoWorker(Protocol):
    def __call__(self, job: BatchJob) -> dict:
        """Edit job.source, write job.output atomically; return {"status", "reason", "faces": [row, ...], ...}
        (further keys, e.g. the faces' full reports, are kept in the photo's record).

        Raising (UserError or anything else) marks the whole photo failed with the message as reason.
        """


# A picklable callable that builds a worker inside each process for a device name ('cpu', 'cuda:1').
WorkerFactory = Callable[[str], PhotoWorker]


@dataclass
class BatchOutcome:
    records: dict[str, dict] = field(default_factory=dict)  # job name -> record, every job of the batch
    processed: int = 0   # photos run in this call
    skipped: int = 0     # photos already finished before this call

    @property
    def failed(self) -> list[str]:
        return [name for name, rec in self.records.items() if rec.get("status") != STATUS_DONE]

    @property
    def flagged(self) -> list[str]:
        """Photos edited, but with a face whose edit changed far more than the points asked."""
        return [name for name, rec in self.records.items()
                if rec.get("status") == STATUS_DONE and any(f.get("flagged") for f in rec.get("faces") or [])]


def find_images(input_dir: Path, *, recursive: bool, exclude: Path | None = None) -> list[Path]:
    """Image files (by suffix) under input_dir, sorted; hidden files and `exclude` are left out."""
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise UserError(f"{input_dir}: not a folder; give the folder of photos to edit")
    pattern = input_dir.rglob("*") if recursive else input_dir.iterdir()
    excluded = exclude.resolve() if exclude is not None else None
    found = []
    for path in pattern:
        rel = path.relative_to(input_dir)
        if any(part.startswith(".") for part in rel.parts) or path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if excluded is not None and (path.resolve() == excluded or excluded in path.resolve().parents):
            continue
        if path.is_file():
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(input_dir).as_posix())


def plan_batch(input_dir: Path, output_dir: Path, *, recursive: bool = False,
               output_suffix: str | None = None) -> list[BatchJob]:
    """One job per image; outputs mirror the input tree, keeping each file's suffix unless given one."""
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    if output_dir.resolve() == input_dir.resolve():
        raise UserError(f"{output_dir}: the output folder is the input folder; outputs would overwrite the "
                        "photos, choose another folder")
    sources = find_images(input_dir, recursive=recursive, exclude=output_dir)
    # A file already of the output type keeps its name; another that would land on it (a.jpg ->
    # a.png beside a.png) is renamed a_jpg.png.
    taken = {src.relative_to(input_dir).as_posix().lower() for src in sources
             if output_suffix is None or src.suffix.lower() == output_suffix.lower()}
    jobs = []
    for src in sources:
        rel = src.relative_to(input_dir)
        out_rel = rel
        if output_suffix is not None and rel.suffix.lower() != output_suffix.lower():
            out_rel = rel.with_suffix(output_suffix)
            if out_rel.as_posix().lower() in taken:
                out_rel = rel.with_name(f"{rel.stem}_{rel.suffix.lstrip('.')}{output_suffix}")
            taken.add(out_rel.as_posix().lower())
        jobs.append(BatchJob(source=src, name=rel.as_posix(), output=output_dir / out_rel,
                             record=output_dir / REPORTS_DIR / (rel.as_posix() + ".json")))
    if not jobs:
        raise UserError(f"{input_dir}: no images ({', '.join(IMAGE_SUFFIXES)}) found"
                        f"{'' if recursive else '; add -r to look in sub-folders'}")
    return jobs


def check_manifest(output_dir: Path, settings: dict) -> None:
    """Refuse to resume into a folder made with other settings; write the manifest for a new one."""
    path = Path(output_dir) / MANIFEST
    digest = settings_digest(settings)
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8")).get("settings_sha256")
        except (OSError, ValueError, AttributeError):
            old = None
        if old is not None and old != digest:
            raise UserError(f"{output_dir} holds a batch made with other points or settings; resume it with the "
                            "same ones, or choose a new output folder")
        if old == digest:
            return
    write_json_atomic(path, {"format": "portrait-drag/batch", "settings_sha256": digest, "settings": settings})


def settings_digest(settings: dict) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()


class BatchEngine(Protocol):
    def __call__(self, todo: list[BatchJob], factory: WorkerFactory) -> Iterator[dict]:
        """Run `process_job(factory(device), job)` for every job somewhere; yield each record as it is
        written, in the order they finish. Closing the iterator stops every worker."""


def run_batch(
    jobs: list[BatchJob],
    factory: WorkerFactory,
    *,
    output_dir: Path,
    engine: BatchEngine | None = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> BatchOutcome:
    """Run `factory(device)(job)` for each unfinished job on `engine` (default: one worker in this
    process, local_engine.LocalEngine). Records and summary.csv are kept current."""
    if engine is None:
        from .local_engine import LocalEngine

        engine = LocalEngine()
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(output_dir)

    # 1. What is finished already.
    outcome = BatchOutcome()
    todo: list[BatchJob] = []
    for job in jobs:
        record = finished_record(job, retry_failed=retry_failed)
        if record is None:
            todo.append(job)
        else:
            outcome.records[job.name] = record
            outcome.skipped += 1
    if outcome.skipped:
        logger.info("%d of %d photos already finished in %s; %d to go", outcome.skipped, len(jobs), output_dir,
                    len(todo))

    # 2. The rest, with a progress bar over the whole batch.
    order = [job.name for job in jobs]
    bar = tqdm(total=len(jobs), initial=outcome.skipped, desc="batch", unit="photo", disable=not progress)
    records = engine(todo, factory) if todo else iter(())
    try:
        for record in records:
            outcome.records[record["photo"]] = record
            outcome.processed += 1
            if record["status"] != STATUS_DONE:
                logger.warning("%s: %s: %s", record["photo"], record["status"], record.get("reason") or "")
            bar.update(1)
            write_summary(output_dir / SUMMARY, [outcome.records[n] for n in order if n in outcome.records])
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()  # stops the engine's workers on Ctrl-C too
        bar.close()
    write_summary(output_dir / SUMMARY, [outcome.records[n] for n in order if n in outcome.records])
    _remove_stale_parts(output_dir)  # every worker is done: a temporary file left now is a killed worker's
    return outcome


def finished_record(job: BatchJob, *, retry_failed: bool = False) -> dict | None:
    """The job's record when it needs no (re)run, else None."""
    record = _read_record(job.record)
    if job.output.is_file():
        if record is None or record.get("status") == STATUS_FAILED:
            # Killed between the photo and its record: the photo is complete (atomic), the record lost.
            return _record(job, STATUS_DONE, "finished in an earlier run (its report was not written)", [])
        return record
    if record is None or retry_failed or record.get("status") != STATUS_FAILED:
        return None
    return record if record.get("input") == _fingerprint(job.source) else None


def process_job(worker: PhotoWorker, job: BatchJob) -> dict:
    """Run one job, turning any failure into a record; write the record (after the photo, so a
    record never claims a missing photo)."""
    started = time.perf_counter()
    try:
        result = worker(job)
        status, reason, faces = result["status"], result.get("reason", ""), result.get("faces", [])
        extra = {k: v for k, v in result.items() if k not in ("status", "reason", "faces")}
    except KeyboardInterrupt:
        raise
    except UserError as exc:
        status, reason, faces, extra = STATUS_FAILED, str(exc), [], {}
    except Exception as exc:  # one bad photo never stops the batch
        logger.debug("%s failed", job.name, exc_info=True)
        status, reason, faces, extra = STATUS_FAILED, f"{type(exc).__name__}: {exc}".splitlines()[0], [], {}
    record = {**_record(job, status, reason, faces), **extra}
    record["seconds"] = round(time.perf_counter() - started, 3)
    record["worker"] = {"host": socket.gethostname(), "pid": os.getpid()}  # which process edited it
    write_json_atomic(job.record, record)
    return record


def failed_record(job: BatchJob, reason: str) -> dict:
    """The record of a photo no worker could finish (an engine's own failure, e.g. a worker that died)."""
    return {**_record(job, STATUS_FAILED, reason, []), "seconds": 0.0}


def _record(job: BatchJob, status: str, reason: str, faces: list[dict]) -> dict:
    return {"format": RECORD_FORMAT, "photo": job.name, "source": str(job.source), "output": str(job.output),
            "status": status, "reason": reason, "input": _fingerprint(job.source), "faces": faces}


def _read_record(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == RECORD_FORMAT else None


def _fingerprint(path: Path) -> dict | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def _remove_stale_parts(output_dir: Path) -> None:
    """Temporary files of writes a killed run never finished (atomic_path's '.<stem>.<8 random>.part<suffix>')."""
    for path in output_dir.rglob(".*.part*"):
        if path.is_file() and _PART_FILE.match(path.name):
            logger.debug("removing unfinished write %s", path)
            path.unlink(missing_ok=True)
