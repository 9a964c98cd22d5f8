"""The drag points file (`pts.json`): a small, strictly validated schema.

    {"points": [{"handle": [x, y], "target": [x, y]}, ...]}

x, y in pixels of the generated image (x to the right, y down, pixel centres at integers).
Unknown keys are errors rather than being ignored, so that fields added later (a coordinate
space, landmark anchors) are never silently dropped by an older reader.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..common import UserError
from ..common.json_values import number_pair, read_json_file

TOP_KEYS = ("points",)
POINT_KEYS = ("handle", "target")


@dataclass(frozen=True)
class DragPoints:
    handles: list[tuple[float, float]]  # image px (x, y)
    targets: list[tuple[float, float]]  # image px (x, y), one per handle

    def to_json(self) -> dict:
        return {"points": [{"handle": list(h), "target": list(t)} for h, t in zip(self.handles, self.targets)]}


def parse_points(data: object, *, source: str = "points") -> DragPoints:
    """Validate the decoded JSON of a points file; every failure names the entry and the fix."""
    if not isinstance(data, dict):
        raise UserError(f'{source}: expected an object like {{"points": [{{"handle": [x, y], "target": [x, y]}}]}}')
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise UserError(f"{source}: unknown key(s) {unknown}; allowed: {list(TOP_KEYS)}")
    points = data.get("points")
    if not isinstance(points, list):
        raise UserError(f'{source}: "points" must be a list of {{"handle": [x, y], "target": [x, y]}}')
    if not points:
        raise UserError(f'{source}: "points" is empty: add at least one handle/target pair')
    handles, targets = [], []
    for i, entry in enumerate(points):
        if not isinstance(entry, dict):
            raise UserError(f'{source}: points[{i}] must be an object {{"handle": [x, y], "target": [x, y]}}')
        unknown = sorted(set(entry) - set(POINT_KEYS))
        missing = [k for k in POINT_KEYS if k not in entry]
        if unknown or missing:
            what = f"unknown key(s) {unknown}" if unknown else f"missing {missing}"
            raise UserError(f"{source}: points[{i}] has {what}; each point needs exactly {list(POINT_KEYS)}")
        handles.append(number_pair(entry["handle"], f"{source}: points[{i}].handle"))
        targets.append(number_pair(entry["target"], f"{source}: points[{i}].target"))
    return DragPoints(handles=handles, targets=targets)


def load_points(path: str | Path) -> DragPoints:
    return parse_points(read_json_file(path), source=str(path))
