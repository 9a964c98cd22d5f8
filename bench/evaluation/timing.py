"""Wall-clock timing of a callable the way every speed bench reports it."""
from __future__ import annotations

import statistics
import time

import torch


def timed(fn, *, repeats: int, device: torch.device) -> float:
    """Median seconds of fn() over `repeats` runs, after one warm-up (CUDA synchronised around each)."""
    fn()
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
