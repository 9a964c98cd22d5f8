"""Every face of a photo edited with the same points (`--face all`): each face is aligned,
inverted and dragged on its own, and all the edits land in one photo.

The faces are taken left to right, and each is cropped from the photo with the faces before it
already edited: where two crops overlap (people cheek to cheek), the later face's inversion sees
the earlier edit and its paste-back, feathered to its own face's boundary, keeps it. So no edit
is undone by a neighbour's crop and no crop rectangle shows.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pipeline.common import UserError

from .editor import Editor
from .edit_points import EditPoints
from .edit_types import EditResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaceFailure:
    face: int     # index, left to right
    reason: str   # the one-line error that stopped this face


@dataclass(frozen=True, eq=False)
class FacesEdit:
    photo: np.ndarray                  # [H, W, 3] uint8: every edited face pasted in (the input when none was)
    results: tuple[EditResult, ...]    # the edited faces, left to right
    failures: tuple[FaceFailure, ...]  # the faces that could not take the edit
    faces_tried: int                   # faces attempted (those large enough to edit)

    @property
    def handles_photo(self) -> np.ndarray:
        """[N, 2] photo px: every edited face's handles, for the side by side."""
        return np.concatenate([r.points.handles_photo for r in self.results]) if self.results else np.zeros((0, 2))

    @property
    def targets_photo(self) -> np.ndarray:
        return np.concatenate([r.points.targets_photo for r in self.results]) if self.results else np.zeros((0, 2))

    @property
    def flags(self) -> tuple[str, ...]:
        return tuple(f"face {r.aligned.face_index}: {flag}" for r in self.results for flag in r.flags)

    def failure_message(self) -> str:
        """One line: what failed, and that the rest was edited."""
        first = self.failures[0]
        if not self.results:
            return first.reason if len(self.failures) == 1 else \
                f"none of the {len(self.failures)} faces could be edited; face {first.face}: {first.reason}"
        return (f"{len(self.failures)} of {self.faces_tried} faces failed (face {first.face}: {first.reason}); "
                f"the other {len(self.results)} were edited")


def edit_every_face(
    editor: Editor,
    points: EditPoints,
    *,
    faces: Sequence[int] | None = None,
) -> FacesEdit:
    """Edit `faces` (indices; None: every face large enough) of the photo `editor` has open()ed.

    Landmark-anchored points are placed on each face's own landmarks. A face that cannot take the
    edit (a one-line UserError, e.g. a point off its crop) is recorded in `failures` and the others
    go on.
    """
    if editor.photo is None:
        raise RuntimeError("open() a photo before edit_every_face()")
    indices = editor.editable_faces() if faces is None else list(faces)
    current = editor.photo
    results: list[EditResult] = []
    failures: list[FaceFailure] = []
    for position, index in enumerate(indices):
        if len(indices) > 1:
            logger.info("face %d (%d of %d)", index, position + 1, len(indices))
        try:
            editor.select(index, photo=current)
            editor.place(points)
            editor.invert()
            editor.drag()
            result = editor.apply(photo=current)
        except UserError as exc:  # this face cannot take the edit; the others still may
            logger.warning("%s: face %d not edited: %s", editor.name, index, exc)
            failures.append(FaceFailure(face=index, reason=str(exc)))
            continue
        current = result.photo
        results.append(result)
    return FacesEdit(photo=current, results=tuple(results), failures=tuple(failures), faces_tried=len(indices))
