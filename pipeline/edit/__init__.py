"""The editing core (editor.py): photo + points -> edited photo, as explicit steps
(1 align, 2 invert, 3 points, 4 drag, 5 paste back) that the CLI, the batch and the web editor drive;
and the batch runner that applies one edit to a folder of photos.

Public API:
- `Editor(G, *, config, device)`: open / select / invert / place / drag (resume, undo, reset) / apply.
- `edit_photo(photo, points, G, *, config, device, ...) -> EditResult`: the whole edit in one call.
- `EditConfig`: every stage's settings in one place.
- `load_edit_points(path) / parse_edit_points(data) -> EditPoints`: the points file (edit_points.py);
  `place_points(points, aligned) -> PlacedPoints`: its handles/targets in photo and crop px.
- `edit_every_face(editor, points) -> FacesEdit`: every face of a group photo (all_faces.py).
- `plan_batch(...)`, `run_batch(..., engine=...)`: resumable, failure-tolerant batches (batch_runner.py)
  on `LocalEngine` (local_engine.py, processes here) or `RayEngine` (ray_engine.py, Ray actors).
Stages never import each other; they meet here.
"""
from .all_faces import FacesEdit, edit_every_face
from .batch_runner import BatchJob, BatchOutcome, plan_batch, run_batch
from .edit_config import EditConfig
from .edit_points import EditPoints, load_edit_points, parse_edit_points
from .edit_types import EditResult, Inversion
from .editor import Editor, crop_convention, edit_photo
from .inversion import invert_face
from .points_map import PlacedPoints, mask_in_crop, place_points

__all__ = [
    "BatchJob", "BatchOutcome", "EditConfig", "EditPoints", "EditResult", "Editor", "FacesEdit", "Inversion",
    "PlacedPoints", "crop_convention", "edit_every_face", "edit_photo", "invert_face", "load_edit_points", "mask_in_crop", "parse_edit_points",
    "place_points", "plan_batch", "run_batch",
]
