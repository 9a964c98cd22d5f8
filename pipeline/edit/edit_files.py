"""Writing an edit's files: the edited photo, and on request the side by side, the animation, the report.

Every file is written atomically; the input photo is never overwritten.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pipeline.common import UserError, check_distinct_outputs, write_json_atomic
from pipeline.common.images import Photo, save_image, save_photo
from pipeline.drag.trajectory import write_trajectory_gif

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
    save_photo(outputs.photo, result.photo, photo, jpeg_quality=outputs.jpeg_quality)
    if outputs.side_by_side is not None:
        save_image(outputs.side_by_side, side_by_side(photo.pixels, result), icc_profile=photo.icc_profile,
                   jpeg_quality=outputs.jpeg_quality, protect=[photo.path])
    if outputs.trajectory is not None:
        frames = drag_frames(result)
        if frames:
            write_trajectory_gif(outputs.trajectory, frames, result.drag.trajectory, result.drag.targets)
    if outputs.report is not None and report is not None:
        write_json_atomic(outputs.report, report)
