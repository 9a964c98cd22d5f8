"""The points file of `cli.py edit` / `batch`: where to drag, on a photo, in a small checked schema.

    {
      "space": "photo",                       optional: "photo" (default) or "crop" pixels
      "points": [
        {"handle": [x, y], "target": [x, y]},                               literal points
        {"handle": {"landmark": "mouth_left"}, "target": {"offset": [0, -0.08]}},
        {"handle": {"landmark": 54, "offset": [0.05, 0]}, "target": {"landmark": "nose_tip"}},
        ...
      ],
      "mask": {"region": ["mouth", "jaw"], "grow": 0.2}                     optional, or
              {"polygon": [[x, y], {"landmark": "chin"}, ...]}  or  {"image": "mask.png"}
    }

A point is `[x, y]` in pixels of `space` (x right, y down, pixel centres at integers), or a
landmark anchor `{"landmark": L, "offset": [dx, dy]}`: L is 0..67, a name (landmark_names.py)
or a region (its centroid); the offset (default [0, 0]) is in the FACE's frame (x from the
left eye to the right eye as seen, y towards the chin) in units of the inter-ocular distance,
so the same file means the same edit on any portrait. A target may be `{"offset": [dx, dy]}`
alone: relative to its own handle. Every point may carry a "name" for reports.

The mask marks the region allowed to change (DragGAN's flexible region): landmark regions
(their convex hull grown by `grow` inter-ocular distances, default 0.2), a polygon of points
(as above), or a black/white image the size of the photo (space "photo") or of the crop
(space "crop"), a relative path being taken from the points file's folder.
Unknown keys are errors, so a typo never silently changes an edit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from pipeline.common import UserError
from pipeline.common.mask_images import read_mask_image
from pipeline.common.json_values import number_pair, read_json_file

from pipeline.align.landmark_names import landmark_indices, region_indices

SPACES = ("photo", "crop")
TOP_KEYS = ("space", "points", "mask")
PAIR_KEYS = ("handle", "target", "name")
ANCHOR_KEYS = ("landmark", "offset")
MASK_KINDS = ("region", "polygon", "image")
DEFAULT_REGION_GROW = 0.2  # inter-ocular distances added around a region's hull
EXAMPLE = '{"points": [{"handle": {"landmark": "mouth_left"}, "target": {"offset": [0, -0.08]}}]}'


@dataclass(frozen=True)
class PointRef:
    """One point of the file, not yet placed on a face."""

    label: str                                 # where it came from, for messages: 'points[0].handle'
    xy: tuple[float, float] | None = None      # literal (x, y) in the file's space, or None for an anchor
    landmarks: tuple[int, ...] = ()            # anchor: the centroid of these dlib landmarks
    offset: tuple[float, float] = (0.0, 0.0)   # face frame, inter-ocular distances, added to the anchor
    from_handle: bool = False                  # a target written as an offset from its own handle

    def to_json(self) -> object:
        if self.xy is not None:
            return list(self.xy)
        out: dict = {"offset": list(self.offset)}
        if not self.from_handle:
            out["landmark"] = list(self.landmarks) if len(self.landmarks) > 1 else self.landmarks[0]
        return out


@dataclass(frozen=True)
class MaskSpec:
    kind: str                                 # 'region' | 'polygon' | 'image'
    regions: tuple[str, ...] = ()             # region names (kind 'region')
    grow: float = DEFAULT_REGION_GROW         # inter-ocular distances added around the regions' hull
    polygon: tuple[PointRef, ...] = ()        # vertices in order (kind 'polygon')
    image: Path | None = None                 # mask image (kind 'image'), absolute or relative to cwd
    pixels: np.ndarray | None = field(default=None, compare=False, repr=False)  # [H, W] 0/1 of `image`, read at the edge

    def to_json(self) -> dict:
        if self.kind == "region":
            return {"region": list(self.regions), "grow": self.grow}
        if self.kind == "polygon":
            return {"polygon": [p.to_json() for p in self.polygon]}
        return {"image": str(self.image)}


@dataclass(frozen=True)
class EditPoints:
    """A validated points file."""

    space: str                       # unit of literal points: 'photo' or 'crop' pixels
    handles: tuple[PointRef, ...]
    targets: tuple[PointRef, ...]    # one per handle
    names: tuple[str | None, ...]    # optional name of each pair
    mask: MaskSpec | None
    source: str                      # file name (or 'points') for messages

    def __len__(self) -> int:
        return len(self.handles)

    def to_json(self) -> dict:
        pairs = []
        for h, t, n in zip(self.handles, self.targets, self.names):
            pairs.append({**({"name": n} if n else {}), "handle": h.to_json(), "target": t.to_json()})
        out: dict = {"space": self.space, "points": pairs}
        if self.mask is not None:
            out["mask"] = self.mask.to_json()
        return out


def parse_edit_points(data: object, *, source: str = "points", base_dir: Path | None = None) -> EditPoints:
    """Validate decoded JSON; each failure is one line naming the entry and the fix."""
    # 1. Top level.
    if not isinstance(data, dict):
        raise UserError(f"{source}: expected a JSON object like {EXAMPLE}")
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise UserError(f"{source}: unknown key(s) {unknown}; allowed: {list(TOP_KEYS)}")
    space = data.get("space", "photo")
    if space not in SPACES:
        raise UserError(f'{source}: "space" is {space!r}; use "photo" (photo pixels) or "crop" (crop pixels)')
    points = data.get("points")
    if not isinstance(points, list) or not points:
        raise UserError(f'{source}: "points" must be a non-empty list of {{"handle": ..., "target": ...}}, '
                        f'e.g. {EXAMPLE}')

    # 2. Pairs.
    handles, targets, names = [], [], []
    for i, entry in enumerate(points):
        where = f"{source}: points[{i}]"
        if not isinstance(entry, dict):
            raise UserError(f'{where} must be an object {{"handle": ..., "target": ...}}')
        unknown = sorted(set(entry) - set(PAIR_KEYS))
        missing = [k for k in ("handle", "target") if k not in entry]
        if unknown or missing:
            what = f"unknown key(s) {unknown}" if unknown else f"no {' or '.join(missing)}"
            raise UserError(f"{where} has {what}; each point needs a handle and a target (and may have a name)")
        name = entry.get("name")
        if name is not None and not isinstance(name, str):
            raise UserError(f"{where}.name must be a string")
        handles.append(_point(entry["handle"], f"{where}.handle", allow_relative=False))
        targets.append(_point(entry["target"], f"{where}.target", allow_relative=True))
        names.append(name)

    # 3. Mask.
    mask = _mask(data["mask"], f"{source}: mask", base_dir) if data.get("mask") is not None else None
    return EditPoints(space=space, handles=tuple(handles), targets=tuple(targets), names=tuple(names),
                      mask=mask, source=source)


def load_edit_points(path: str | Path) -> EditPoints:
    """Read and validate a points file, and its mask image (a relative path is taken from the file's folder)."""
    path = Path(path)
    data = read_json_file(path)
    points = parse_edit_points(data, source=path.name, base_dir=path.parent)
    return with_mask_pixels(points)


def with_mask_pixels(points: EditPoints) -> EditPoints:
    """`points` with its mask image read (the one rule of common/mask_images.py); others unchanged."""
    mask = points.mask
    if mask is None or mask.kind != "image" or mask.pixels is not None:
        return points
    if not mask.image.is_file():
        raise UserError(f"{points.source}: mask image {mask.image} not found; give its path relative to the points file")
    return replace(points, mask=replace(mask, pixels=read_mask_image(mask.image)))


def _point(value: object, where: str, *, allow_relative: bool) -> PointRef:
    if isinstance(value, list):
        return PointRef(label=_label(where), xy=number_pair(value, where, "[x, y]"))
    if not isinstance(value, dict):
        raise UserError(f'{where} must be [x, y] or {{"landmark": "mouth_left", "offset": [dx, dy]}}, got {value!r}')
    unknown = sorted(set(value) - set(ANCHOR_KEYS))
    if unknown:
        raise UserError(f"{where} has unknown key(s) {unknown}; an anchored point has 'landmark' and 'offset'")
    offset = number_pair(value["offset"], f"{where}.offset", "[dx, dy]") if "offset" in value else (0.0, 0.0)
    if "landmark" not in value:
        if not allow_relative:
            raise UserError(f'{where} needs a "landmark" (only a target may be a bare offset from its handle)')
        if "offset" not in value:
            raise UserError(f'{where} is empty: give [x, y], {{"landmark": ...}} or {{"offset": [dx, dy]}}')
        return PointRef(label=_label(where), offset=offset, from_handle=True)
    return PointRef(label=_label(where), landmarks=landmark_indices(value["landmark"], where=f"{where}.landmark"),
                    offset=offset)


def _mask(value: object, where: str, base_dir: Path | None) -> MaskSpec:
    if not isinstance(value, dict) or not any(k in value for k in MASK_KINDS):
        raise UserError(f'{where} must be {{"region": "mouth"}}, {{"polygon": [[x, y], ...]}} '
                        'or {"image": "mask.png"}')
    kinds = [k for k in MASK_KINDS if k in value]
    if len(kinds) > 1:
        raise UserError(f"{where} gives {' and '.join(kinds)}: choose one kind of mask")
    kind = kinds[0]
    allowed = {"region": ("region", "grow"), "polygon": ("polygon",), "image": ("image",)}[kind]
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise UserError(f"{where} has unknown key(s) {unknown}; a {kind} mask takes {list(allowed)}")
    if kind == "region":
        names = value["region"] if isinstance(value["region"], list) else [value["region"]]
        if not names:
            raise UserError(f"{where}.region is empty: name at least one region, e.g. 'mouth'")
        for name in names:
            region_indices(name, where=f"{where}.region")
        regions = tuple(n.strip().lower().replace("-", "_") for n in names)
        grow = value.get("grow", DEFAULT_REGION_GROW)
        if isinstance(grow, bool) or not isinstance(grow, (int, float)) or not (math.isfinite(grow) and 0 <= grow <= 2):
            raise UserError(f"{where}.grow is {grow!r}: use a number of inter-ocular distances from 0 to 2")
        return MaskSpec(kind="region", regions=regions, grow=float(grow))
    if kind == "polygon":
        vertices = value["polygon"]
        if not isinstance(vertices, list) or len(vertices) < 3:
            raise UserError(f"{where}.polygon needs at least 3 points [x, y] or landmark anchors")
        return MaskSpec(kind="polygon", polygon=tuple(
            _point(v, f"{where}.polygon[{i}]", allow_relative=False) for i, v in enumerate(vertices)))
    image = value["image"]
    if not isinstance(image, str) or not image:
        raise UserError(f"{where}.image must be the path of a black/white image (white = may change)")
    path = Path(image).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return MaskSpec(kind="image", image=path)


def _label(where: str) -> str:
    """'pts.json: points[0].handle' -> 'points[0].handle' (the file is named once per message)."""
    return where.split(": ", 1)[-1]
