"""``serve`` bounds what glibc keeps of freed large buffers (entrypoints/malloc_tuning.py).

Each case runs in a fresh interpreter: malloc settings are per process and cannot be
undone, and the effect shows only in a process whose threshold glibc has not yet moved.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
import ctypes, sys
sys.path.insert(0, sys.argv[1])

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
if sys.argv[2] == "tuned":
    from hanoi247.entrypoints.malloc_tuning import bound_malloc_retention
    assert bound_malloc_retention()
first = bytearray(4 << 20)  # a transfer chunk, freed: glibc would raise its threshold
del first
before = libc.mallinfo2().hblks
second = bytearray(2 << 20)
print(libc.mallinfo2().hblks - before)
"""


def _mmapped_after_a_freed_chunk(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(SRC), mode],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return int(done.stdout.strip())


def test_after_tuning_a_large_buffer_is_mmapped_so_freeing_it_returns_it_to_the_kernel() -> None:
    assert _mmapped_after_a_freed_chunk("tuned") == 1


def test_untuned_glibc_serves_that_buffer_from_an_arena_which_is_why_serve_tunes_it() -> None:
    assert _mmapped_after_a_freed_chunk("default") == 0
