"""Writing an edit's files: the edited photo, and on request the side by side, the animation, the report.

Every file is written atomically; the input photo is never overwritten.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.common import UserError, check_distinct_outputs, write_json_atomic
from pipeline.common.images import Photo, save_image, save_photo
from pipeline.drag.trajectory import write_trajectory_gif

from .all_faces import FacesEdit
from .edit_types import EditResult
from .figures import drag_frames, side_by_side


@dataclass(frozen=True, kw_only=True)
class EditOutputs:
    photo: Path                       # the edited photo; its suffix picks the format
    side_by_side: Path | None = None  # before (with the points) | after
    trajectory: Path | None = None    # GIF of the drag, crop resolution
    report: Path | None = None        # JSON report
    jpeg_quality: int = 95            # JPEG / WebP quality of the photo and the side by side

    def paths(self) -> list[Path]:
        return [p for p in (self.photo, self.side_by_side, self.trajectory, self.report) if p is not None]


def check_outputs(outputs: EditOutputs, inputs: list[str | os.PathLike | None]) -> None:
    """Before any work: outputs distinct from each other and from every input."""
    check_distinct_outputs(outputs.paths(), inputs)
    if outputs.trajectory is not None and outputs.trajectory.suffix.lower() != ".gif":
        raise UserError(f"{outputs.trajectory}: the drag animation is a GIF; give a .gif path")
    if outputs.report is not None and outputs.report.suffix.lower() != ".json":
        raise UserError(f"{outputs.report}: the report is JSON; give a .json path")


def save_edit(result: EditResult, photo: Photo, outputs: EditOutputs, *, report: dict | None = None) -> None:
    """Write the edited photo (same size, orientation and colour profile as `photo`) and the extras."""
    animations = [(outputs.trajectory, result)] if outputs.trajectory is not None else []
    _write(outputs, photo, result.photo, result.points.handles_photo, result.points.targets_photo,
           animations=animations, report=report)


def face_trajectory_path(path: Path, face: int) -> Path:
    """drag.gif -> drag_face1.gif: one animation per face of a --face all edit."""
    return path.with_name(f"{path.stem}_face{face}{path.suffix}")


def save_faces_edit(edited: FacesEdit, photo: Photo, outputs: EditOutputs, *, report: dict | None = None) -> None:
    """save_edit for every face of a photo (--face all): one photo and side by side, one animation per face."""
    animations = [] if outputs.trajectory is None else [
        (face_trajectory_path(outputs.trajectory, r.aligned.face_index), r) for r in edited.results]
    _write(outputs, photo, edited.photo, edited.handles_photo, edited.targets_photo, animations=animations,
           report=report)


def _write(outputs: EditOutputs, photo: Photo, edited: np.ndarray, handles: np.ndarray, targets: np.ndarray, *,
           animations: list[tuple[Path, EditResult]], report: dict | None) -> None:
    save_photo(outputs.photo, edited, photo, jpeg_quality=outputs.jpeg_quality)
    if outputs.side_by_side is not None:
        save_image(outputs.side_by_side, side_by_side(photo.pixels, edited, handles, targets),
                   icc_profile=photo.icc_profile, jpeg_quality=outputs.jpeg_quality, protect=[photo.path])
    for path, result in animations:
        frames = drag_frames(result)
        if frames:
            write_trajectory_gif(path, frames, result.drag.trajectory, result.drag.targets)
    if outputs.report is not None and report is not None:
        write_json_atomic(outputs.report, report)
