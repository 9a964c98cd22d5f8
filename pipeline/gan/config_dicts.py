"""Generator configs to and from the JSON our checkpoint format stores (tuples travel as lists)."""
from __future__ import annotations

import dataclasses
from typing import ClassVar


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


class JsonConfig:
    """Mixin of a frozen config dataclass stored in checkpoints: to_dict / from_dict with the class's
    `config_name` in errors and its `int_tuples` fields restored as tuples."""

    config_name: ClassVar[str] = "generator"
    int_tuples: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict:
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict):
        return config_from_dict(cls, data, what=cls.config_name, int_tuples=cls.int_tuples)
