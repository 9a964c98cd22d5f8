"""Which landmarks an edit moves, and the handle/target lists the drag gets for them.

Choice of landmarks (seeded per pair and per point count, so one edit's choice does not depend on
the others run beside it): for 68 points all of them; for fewer, a random subset of the
landmarks that lie inside the image on both faces, skipping any whose handle would share a
pixel with one already chosen (the drag refuses two handles on one pixel).

Drag inputs for a choice: handles are A's landmarks and targets B's, clipped into the image
(dlib places jaw points off a tight crop's edge); where several handles round to one pixel
(68 points on a 64 px face: inner and outer lip points), only the lowest-numbered landmark of
the group is dragged. Every chosen landmark is still measured.
"""
from __future__ import annotations

import numpy as np

NUM_LANDMARKS = 68


def choose_landmarks(
    handles: np.ndarray,  # [68, 2] (x, y) px on face A
    targets: np.ndarray,  # [68, 2] (x, y) px on face B
    num_points: int,
    *,
    image_size: int,  # px, square image
    seed: int,
    pair_index: int,
) -> list[int]:
    """Landmark indices (0..67) to move; all 68 when num_points == 68; fewer when too few are eligible."""
    _check_landmarks(handles, targets)
    if not 1 <= num_points <= NUM_LANDMARKS:
        raise ValueError(f"num_points must be 1..{NUM_LANDMARKS}, got {num_points}")
    if num_points == NUM_LANDMARKS:
        return list(range(NUM_LANDMARKS))
    inside = _inside(handles, image_size) & _inside(targets, image_size)
    rng = np.random.RandomState([seed, pair_index, num_points])
    chosen: list[int] = []
    taken: set[tuple[int, int]] = set()
    for index in rng.permutation(NUM_LANDMARKS):
        pixel = tuple(np.rint(handles[index]).astype(int))
        if not inside[index] or pixel in taken:
            continue
        chosen.append(int(index))
        taken.add(pixel)
        if len(chosen) == num_points:
            break
    return chosen


def drag_points(
    handles: np.ndarray, targets: np.ndarray, indices: list[int], *, image_size: int
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], list[int]]:
    """(handles, targets, dragged landmark indices) for the drag: clipped into the image, one handle per pixel."""
    _check_landmarks(handles, targets)
    limit = image_size - 1
    out_h, out_t, dragged = [], [], []
    taken: set[tuple[int, int]] = set()
    for index in sorted(indices):
        h = np.clip(handles[index], 0, limit)
        pixel = tuple(np.rint(h).astype(int))
        if pixel in taken:
            continue
        taken.add(pixel)
        t = np.clip(targets[index], 0, limit)
        out_h.append((float(h[0]), float(h[1])))
        out_t.append((float(t[0]), float(t[1])))
        dragged.append(int(index))
    return out_h, out_t, dragged


def mean_distance(points: np.ndarray, targets: np.ndarray) -> float:
    """MD: mean Euclidean distance between matching rows of two [K, 2] arrays (same units as the inputs)."""
    points, targets = np.asarray(points, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    if points.shape != targets.shape or points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"mean_distance needs two [K, 2] arrays with K >= 1, got {points.shape} and {targets.shape}")
    return float(np.linalg.norm(points - targets, axis=1).mean())


def to_512(distance_px: float, image_size: int) -> float:
    """A distance in px of an image_size image, in px of the same image at 512 (the paper's unit)."""
    return float(distance_px) * 512.0 / image_size


def _inside(points: np.ndarray, image_size: int) -> np.ndarray:
    return ((points >= 0) & (points <= image_size - 1)).all(axis=1)


def _check_landmarks(handles: np.ndarray, targets: np.ndarray) -> None:
    for name, array in (("handles", handles), ("targets", targets)):
        if np.shape(array) != (NUM_LANDMARKS, 2):
            raise ValueError(f"{name} must be [68, 2] landmarks (x, y), got {list(np.shape(array))}")
