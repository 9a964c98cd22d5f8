"""Resolve the compute device once, at the edge (CLI, scripts); library code takes a torch.device."""
from __future__ import annotations

import torch

from .cpu_memory import keep_freed_memory
from .errors import UserError


def resolve_device(name: str | None = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu. An explicit device that is absent is an error.

    Also keeps freed memory in the process (cpu_memory.py): large CPU tensors are then reused
    instead of page-faulted anew, which makes the 1024 px generator about 5x faster on the CPU.
    """
    keep_freed_memory()
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise UserError(f"unknown device '{name}': use auto, cpu, cuda, cuda:N or mps") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"device '{name}' asked for but CUDA is not available here: use --device cpu")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError(f"device '{name}' asked for but MPS is not available here: use --device cpu")
    return device
