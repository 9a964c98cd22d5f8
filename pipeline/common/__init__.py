"""Small utilities every stage may use: errors, atomic writes, device resolution."""
from .atomic import atomic_path, write_atomic, write_bytes_atomic, write_json_atomic
from .errors import UserError
from .output_paths import check_distinct_outputs


def resolve_device(name: str | None = "auto"):
    """See pipeline.common.device.resolve_device (imported lazily: torch is slow to import)."""
    from .device import resolve_device as _resolve

    return _resolve(name)


__all__ = [
    "UserError", "atomic_path", "check_distinct_outputs", "resolve_device", "write_atomic", "write_bytes_atomic",
    "write_json_atomic",
]
