"""The batch's per-photo work: the same edit on every photo (its largest face, face N, or every face)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from pipeline.align import select_face
from pipeline.common import UserError
from pipeline.common.images import read_photo, save_photo

from .batch_runner import STATUS_DONE, STATUS_FAILED, STATUS_PARTIAL, BatchJob
from .edit_config import EditConfig
from .all_faces import edit_every_face
from .editor import Editor
from .edit_points import EditPoints
from .edit_report import edit_report, face_row


@dataclass(frozen=True, kw_only=True)
class EditWorkerFactory:
    """Picklable recipe of a worker; each worker process loads the generator once."""

    model: str                    # checkpoint path or registry name
    points: EditPoints
    config: EditConfig
    all_faces: bool = False       # every face large enough, else the largest (or config.face)
    jpeg_quality: int = 95

    def __call__(self, device: str) -> "EditWorker":
        return EditWorker(self, torch.device(device))


class EditWorker:
    def __init__(self, recipe: EditWorkerFactory, device: torch.device) -> None:
        from pipeline.gan.loading import load_generator

        self.recipe, self.device = recipe, device
        self.G = load_generator(recipe.model, device=device)

    def __call__(self, job: BatchJob) -> dict:
        r, G = self.recipe, self.G
        photo = read_photo(job.source)
        editor = Editor(G, config=r.config, device=self.device, progress=False)
        editor.open(photo.pixels, name=job.name, path=job.source)
        faces = None if r.all_faces else [select_face(editor.detected, r.config.face, name=job.name,
                                                      config=r.config.detect)]
        edited = edit_every_face(editor, r.points, faces=faces)
        if not edited.results and not r.all_faces:
            raise UserError(edited.failures[0].reason)
        rows = [face_row(result) for result in edited.results]
        rows += [{"face": f.face, "status": STATUS_FAILED, "reason": f.reason} for f in edited.failures]
        rows.sort(key=lambda row: row["face"])
        if not edited.results:
            return {"status": STATUS_FAILED, "reason": edited.failure_message(), "faces": rows}
        save_photo(job.output, edited.photo, photo, jpeg_quality=r.jpeg_quality)
        reports = [edit_report(result, G=G, info={"photo": str(job.source), "output": str(job.output),
                                                  "device": str(self.device)}) for result in edited.results]
        status = STATUS_PARTIAL if edited.failures else STATUS_DONE
        reason = edited.failure_message() if edited.failures else ""
        return {"status": status, "reason": reason, "faces": rows, "reports": reports}
