"""glibc malloc settings for the node's own long-running processes (``serve``).

A transfer moves 4 MiB buffers between threads (chunk fetchers, the follower, the age
check, uvicorn's workers). glibc serves allocations above ``M_MMAP_THRESHOLD`` (128 KiB)
with ``mmap`` and gives them back on ``free``, but after the first such buffer is freed it
raises the threshold to that size: every later 4 MiB buffer then comes from a malloc
arena (up to eight per core, one per thread that allocates), and what those arenas freed
stays resident. With a 4 GiB transfer that is tens of megabytes the process no longer
uses. Setting the threshold explicitly (1 MiB) turns that adjustment off, so large
buffers always go back to the kernel when freed; two arenas bound what small allocations
in many threads can hold. The cost is a page fault per 4 KiB of each large buffer, small
beside hashing and decrypting it.

Same effect as ``MALLOC_MMAP_THRESHOLD_=1048576 MALLOC_ARENA_MAX=2`` in the environment,
but set by the process for itself, so an operator's unit file cannot forget it. Where the
C library is not glibc (``mallopt`` missing), nothing is changed.
"""

from __future__ import annotations

import ctypes
import sys
from typing import Final

M_MMAP_THRESHOLD: Final = -3
M_ARENA_MAX: Final = -8
MMAP_THRESHOLD: Final = 1024 * 1024
ARENA_MAX: Final = 2


def bound_malloc_retention() -> bool:
    """Apply the settings above to this process; False where they cannot be set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    threshold: bool = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    arenas: bool = mallopt(M_ARENA_MAX, ARENA_MAX) == 1
    return threshold and arenas
