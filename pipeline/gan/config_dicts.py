"""Generator configs to and from the JSON our checkpoint format stores (tuples travel as lists)."""
from __future__ import annotations

import dataclasses


def config_to_dict(config) -> dict:
    """A frozen config dataclass as JSON-able constructor arguments (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def config_from_dict(cls, data: dict, *, what: str, int_tuples: tuple[str, ...] = ()):
    """cls(**data), refusing unknown keys (named in the error) and turning `int_tuples` lists back into tuples."""
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown {what} config keys: {sorted(unknown)}")
    data = dict(data)
    for name in int_tuples:
        if name in data:
            data[name] = tuple(int(v) for v in data[name])
    return cls(**data)
