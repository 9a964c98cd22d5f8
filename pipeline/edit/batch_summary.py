"""summary.csv of a batch: one row per photo and face (a photo that failed before any face: one row)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterable

from pipeline.common import write_atomic

STAGES = ("align", "invert", "pti", "map_points", "drag", "blend")
COLUMNS = (
    "photo", "face", "status", "reason", "output", "steps", "converged", "drag_status",
    "final_distances_px", "max_distance_px", "new_content", "changed_outside_asked", "flagged",
    *(f"seconds_{s}" for s in STAGES), "seconds_total",
)


def face_rows_from_record(record: dict) -> list[dict]:
    """Flatten a batch record ({photo, status, reason, output, faces: [...]}) into CSV rows."""
    written = record.get("status") != "failed"  # a failed photo has no output file
    base = {"photo": record.get("photo", ""), "output": record.get("output", "") if written else ""}
    faces = record.get("faces") or []
    if not faces:
        return [{**base, "face": "", "status": record.get("status", ""), "reason": record.get("reason", "")}]
    rows = []
    for face in faces:
        seconds = face.get("seconds") or {}
        distances = face.get("distances") or []
        row = {
            **base,
            "face": face.get("face", ""),
            "status": face.get("status", record.get("status", "")),
            "reason": face.get("reason", ""),
            "steps": face.get("steps", ""),
            "converged": face.get("converged", ""),
            "drag_status": face.get("drag_status", ""),
            "final_distances_px": " ".join(f"{d:.2f}" for d in distances),
            "max_distance_px": f"{max(distances):.2f}" if distances else "",
            "new_content": _fmt(face.get("new_content")),
            "changed_outside_asked": _fmt(face.get("changed_outside_asked")),
            "flagged": face.get("flagged", ""),
            "seconds_total": _fmt(seconds.get("total")),
        }
        row.update({f"seconds_{s}": _fmt(seconds.get(s)) for s in STAGES})
        rows.append(row)
    return rows


def write_summary(path: str | Path, records: Iterable[dict]) -> Path:
    """Write the rows of `records` as CSV, atomically (a reader never sees half a file)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        for row in face_rows_from_record(record):
            writer.writerow({k: _one_line(row.get(k, "")) for k in COLUMNS})
    text = buf.getvalue()
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _fmt(value) -> str:
    return "" if value is None else f"{float(value):.3f}"


def _one_line(value) -> object:
    return " ".join(value.split()) if isinstance(value, str) else value
