"""What a drag writes about itself: settings, per-point start/final/target/distance, steps, timings."""
from __future__ import annotations

from .result import DragResult


def drag_report(result: DragResult) -> dict:
    """The drag's record; points are (x, y) in the dragged image's px."""
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
        "final_lambda_mask": result.final_lambda_mask,
        "seconds_total": result.seconds_total,
        "seconds_per_step": mean_step,
        "steps_per_second": (1.0 / mean_step) if mean_step > 0 else None,
        "step_seconds": result.seconds_per_step,
        "trajectory": [[list(p) for p in step] for step in result.trajectory],
    }
