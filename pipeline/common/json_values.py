"""Reading small JSON inputs (points files) with one-line errors that name the file and the field."""
from __future__ import annotations

import json
import math
from pathlib import Path

from .errors import UserError


def read_json_file(path: str | Path, *, what: str = "points file") -> object:
    """The parsed JSON of `path`; UserError naming the file when it cannot be read or parsed."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{what} {path} is not valid JSON (line {exc.lineno}: {exc.msg})") from None


def number_pair(value: object, where: str, form: str = "[x, y]") -> tuple[float, float]:
    """A JSON list of two finite numbers as floats; `where` names the field in the error."""
    if not isinstance(value, list) or len(value) != 2:
        raise UserError(f"{where} must be a list {form} of two numbers, got {value!r}")
    out = []
    for v in value:
        # bool is an int subclass; true/false is never a coordinate.
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise UserError(f"{where} must be a list {form} of two numbers, got {value!r}")
        if not math.isfinite(v):
            raise UserError(f"{where} is {value!r}: use finite numbers (no NaN/inf)")
        out.append(float(v))
    return out[0], out[1]
