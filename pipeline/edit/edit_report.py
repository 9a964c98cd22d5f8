"""What an edit writes about itself: the report JSON, and the summary row a batch keeps per face."""
from __future__ import annotations

from pipeline.align import aligned_to_json
from pipeline.drag import drag_report
from pipeline.gan.interface import LatentGenerator
from pipeline.gan.model_record import model_record

from .edit_types import STAGES, EditResult

FORMAT = "portrait-drag/edit-report"


def edit_report(result: EditResult, *, G: LatentGenerator, info: dict) -> dict:
    """Everything about one face's edit; `info` adds the caller's fields (photo, output, device, ...)."""
    aligned = result.aligned
    mask = None
    if result.mask is not None:
        mask = {"flexible_pixels": int(result.mask.sum()), "crop_pixels": int(result.mask.size)}
    return {
        "format": FORMAT,
        **info,
        "model": model_record(G),
        "backbone": result.inversion.backbone,
        "session": None if result.inversion.session is None else str(result.inversion.session),
        "face": {"index": aligned.face_index, "box": aligned.face_box, "transform": aligned_to_json(aligned)},
        "points": result.points.to_json(),
        "inter_ocular_px": result.points.inter_ocular_px,
        "mask": mask,
        "inversion": {**result.inversion.report, "tuned": result.inversion.tuned},
        "drag": drag_report(result.drag),
        "blend": {"mode": result.blend.mode, "roi": list(result.blend.roi), "new_content": result.blend.new_content,
                  "changed": result.blend.changed, "changed_outside_asked": result.blend.changed_outside,
                  "generator_share": result.blend.generator_share, "max_motion_px": result.blend.max_motion_px,
                  "greyscale": result.blend.greyscale},
        "flags": list(result.flags),
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def face_row(result: EditResult) -> dict:
    """One batch summary row (see batch_summary.py) for a face edited without error; `reason` holds warnings."""
    notes = []
    if not result.drag.converged:
        notes.append(f"drag stopped by {result.drag.status} before reaching the targets")
    notes.extend(result.flags)
    return {
        "face": result.aligned.face_index,
        "status": "done",
        "reason": "; ".join(notes),
        "steps": result.drag.steps,
        "converged": result.drag.converged,
        "drag_status": result.drag.status,
        "distances": [round(d, 3) for d in result.drag.distances],
        "new_content": round(result.blend.new_content, 4),
        "changed_outside_asked": None if result.blend.changed_outside is None else round(result.blend.changed_outside, 4),
        "flagged": bool(result.flags),
        "seconds": {k: round(result.seconds.get(k, 0.0), 3) for k in (*STAGES, "total")},
    }
