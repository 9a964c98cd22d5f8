"""The orchestrator: photo + points file -> edited photo (1 align, 2 invert, 3 points, 4 drag, 5 blend),
and the batch runner that applies one edit to a folder of photos.

Public API:
- `edit_photo(photo, points, G, *, config, device, ...) -> EditResult`; `edit_face` for an aligned face.
- `EditConfig`: every stage's settings in one place.
- `load_edit_points(path) / parse_edit_points(data) -> EditPoints`: the points file (edit_points.py);
  `place_points(points, aligned) -> PlacedPoints`: its handles/targets in photo and crop px.
- `plan_batch(...)`, `run_batch(...)`: resumable, failure-tolerant batches (batch_runner.py).
Stages never import each other; they meet here.
"""
from .batch_runner import BatchJob, BatchOutcome, plan_batch, run_batch
from .edit_config import EditConfig
from .edit_steps import EditResult, Inversion, edit_face, edit_photo, invert_face
from .points_map import PlacedPoints, mask_in_crop, place_points
from .edit_points import EditPoints, load_edit_points, parse_edit_points

__all__ = [
    "BatchJob", "BatchOutcome", "EditConfig", "EditPoints", "EditResult", "Inversion", "PlacedPoints",
    "edit_face", "edit_photo", "invert_face", "load_edit_points", "mask_in_crop", "parse_edit_points",
    "place_points", "plan_batch", "run_batch",
]
