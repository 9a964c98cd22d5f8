"""The drag points file (`pts.json`): a small, strictly validated schema.

    {"points": [{"handle": [x, y], "target": [x, y]}, ...]}

x, y in pixels of the generated image (x to the right, y down, pixel centres at integers).
Unknown keys are errors rather than being ignored, so that fields added later (a coordinate
space, landmark anchors) are never silently dropped by an older reader.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from ..common import UserError

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
        handles.append(_xy(entry["handle"], f"{source}: points[{i}].handle"))
        targets.append(_xy(entry["target"], f"{source}: points[{i}].target"))
    return DragPoints(handles=handles, targets=targets)


def load_points(path: str | Path) -> DragPoints:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read points file {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"points file {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_points(data, source=str(path))


def _xy(value: object, where: str) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise UserError(f"{where} must be a list [x, y] of two numbers, got {value!r}")
    out = []
    for v in value:
        # bool is an int subclass; true/false is never a coordinate.
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise UserError(f"{where} must be a list [x, y] of two numbers, got {value!r}")
        if not math.isfinite(v):
            raise UserError(f"{where} is {value!r}: coordinates must be finite numbers (no NaN/inf)")
        out.append(float(v))
    return out[0], out[1]
