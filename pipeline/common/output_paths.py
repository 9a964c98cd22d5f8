"""Output paths checked before any work: never an input, never the same file twice."""
from __future__ import annotations

import os
from collections.abc import Iterable

from .errors import UserError


def check_distinct_outputs(outputs: Iterable[str | os.PathLike | None],
                           inputs: Iterable[str | os.PathLike | None]) -> None:
    """UserError when an output is also an input (it would be overwritten) or is given twice."""
    real_inputs = {os.path.realpath(p) for p in inputs if p is not None}
    seen: set[str] = set()
    for path in (p for p in outputs if p is not None):
        real = os.path.realpath(path)
        if real in real_inputs:
            raise UserError(f"output {path} is also an input: choose another output path")
        if real in seen:
            raise UserError(f"output {path} is given twice: use a different path for each output")
        seen.add(real)
