"""Small utilities every stage may use: errors, atomic writes, device resolution."""
from .atomic import atomic_path, write_atomic, write_bytes_atomic, write_json_atomic
from .device import resolve_device
from .errors import UserError

__all__ = ["UserError", "atomic_path", "resolve_device", "write_atomic", "write_bytes_atomic", "write_json_atomic"]
