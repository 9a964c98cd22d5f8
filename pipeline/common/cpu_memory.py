"""Keep freed memory in the process on glibc, so large feature maps are not page-faulted anew.

glibc serves allocations above its mmap threshold (at most 32 MiB by default) with fresh mmap
pages and unmaps them on free: every 67 MB feature map of the 1024 px generator then costs a
round of page faults and zeroing. Measured on this project's 2-core CPU, MobileStyleGAN's
1024 px forward took 1.30 s with the default and 0.25 s with a 1 GiB threshold and no trimming
(bench/generator_speed.py prints it). Peak memory is unchanged: it is reused, not added.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import sys

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_THRESHOLD_BYTES = 1 << 30


@functools.lru_cache(maxsize=1)
def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; False where not glibc (no change)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    ok = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, 2 * _THRESHOLD_BYTES))
    log.debug("glibc malloc thresholds raised: %s", ok)
    return ok
