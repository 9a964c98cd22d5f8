"""The batch's per-photo work: the same edit on every photo (its largest face, or every face)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from pipeline.common import UserError
from pipeline.common.images import read_photo, save_photo

from .batch_runner import STATUS_DONE, STATUS_FAILED, STATUS_PARTIAL, BatchJob
from .edit_config import EditConfig
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
        indices = editor.editable_faces() if r.all_faces else [None]

        current, rows, reports = photo.pixels, [], []
        for index in indices:
            try:
                editor.select(index)
                editor.place(r.points)
                editor.invert()
                editor.drag()
                result = editor.apply(photo=current)
            except UserError as exc:  # this face cannot take the edit; the others still may
                if index is None:
                    raise
                rows.append({"face": index, "status": STATUS_FAILED, "reason": str(exc)})
                continue
            current = result.photo
            rows.append(face_row(result))
            reports.append(edit_report(result, G=G, info={"photo": str(job.source), "output": str(job.output),
                                                          "device": str(self.device)}))
        failed = [row for row in rows if row["status"] == STATUS_FAILED]
        if len(failed) == len(rows):
            return {"status": STATUS_FAILED, "reason": failed[0]["reason"], "faces": rows}
        save_photo(job.output, current, photo, jpeg_quality=r.jpeg_quality)
        status = STATUS_PARTIAL if failed else STATUS_DONE
        reason = f"{len(failed)} of {len(rows)} faces failed: {failed[0]['reason']}" if failed else ""
        return {"status": status, "reason": reason, "faces": rows, "reports": reports}
