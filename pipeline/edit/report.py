"""What an edit writes about itself: the report JSON, and the summary row a batch keeps per face."""
from __future__ import annotations

from pipeline.align import aligned_to_json
from pipeline.drag import DragResult
from pipeline.gan.interface import LatentGenerator

from .edit import STAGES, EditResult

FORMAT = "portrait-drag/edit-report"


def model_record(G: LatentGenerator) -> dict:
    keys = ("name", "format", "sha256", "path", "crop_convention")
    info = {k: v for k, v in (G.model_info or {}).items() if k in keys}
    return {**info, "arch": G.arch, "img_resolution": G.img_resolution, "num_ws": G.num_ws}


def drag_report(result: DragResult) -> dict:
    """The drag's settings, per-point start/final/target/distance (crop px), steps and timings."""
    per_point = [
        {"handle_start": list(h0), "handle_final": list(h1), "target": list(t), "distance": d}
        for h0, h1, t, d in zip(result.trajectory[0], result.handles, result.targets, result.distances)
    ]
    mean_step = result.mean_seconds_per_step
    return {
        "settings": result.settings.to_dict(),
        "points": per_point,
        "steps": result.steps,
        "converged": result.converged,
        "status": result.status,
        "seconds_total": result.seconds_total,
        "seconds_per_step": mean_step,
        "steps_per_second": (1.0 / mean_step) if mean_step > 0 else None,
        "step_seconds": result.seconds_per_step,
        "trajectory": [[list(p) for p in step] for step in result.trajectory],
    }


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
                  "max_motion_px": result.blend.max_motion_px},
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


# Above this share of the face taken from generator pixels, paste-back could not redo the edit
# on the photo's own pixels: the drag changed far more than the points asked (seen on the demo).
RERENDERED_WARNING = 0.5


def face_row(result: EditResult) -> dict:
    """One batch summary row (see summary.py) for a face edited without error; `reason` holds warnings."""
    notes = []
    if not result.drag.converged:
        notes.append(f"drag stopped by {result.drag.status} before reaching the targets")
    if result.blend.new_content > RERENDERED_WARNING:
        notes.append(f"{100 * result.blend.new_content:.0f}% of the face re-rendered by the generator "
                     "(the drag changed more than the points asked); check this photo")
    return {
        "face": result.aligned.face_index,
        "status": "done",
        "reason": "; ".join(notes),
        "steps": result.drag.steps,
        "converged": result.drag.converged,
        "drag_status": result.drag.status,
        "distances": [round(d, 3) for d in result.drag.distances],
        "seconds": {k: round(result.seconds.get(k, 0.0), 3) for k in (*STAGES, "total")},
    }
