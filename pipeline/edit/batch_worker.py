"""The batch's per-photo work: the same edit on every photo (its largest face, or every face)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from pipeline.align import align_all_faces
from pipeline.common import UserError
from pipeline.common.images import read_photo, save_photo

from .batch_runner import STATUS_DONE, STATUS_FAILED, STATUS_PARTIAL, BatchJob
from .edit_config import EditConfig
from .edit_steps import align_face_for, crop_convention, edit_face
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
        tick = time.perf_counter()
        if r.all_faces:
            convention, template = crop_convention(G)
            faces = align_all_faces(photo.pixels, name=job.name, output_size=G.img_resolution, convention=convention,
                                    template=template, detect=r.config.detect, config=r.config.align)
        else:
            faces = [align_face_for(photo.pixels, G, config=r.config, name=job.name)]
        align_seconds = time.perf_counter() - tick  # detection is shared: each face's row carries all of it

        current, rows, reports = photo.pixels, [], []
        for aligned in faces:
            try:
                result = edit_face(current, aligned, r.points, G, config=r.config, device=self.device, progress=False,
                                   seconds={"align": align_seconds})
            except UserError as exc:  # this face cannot take the edit; the others still may
                rows.append({"face": aligned.face_index, "status": STATUS_FAILED, "reason": str(exc)})
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
