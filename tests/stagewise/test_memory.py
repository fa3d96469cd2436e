"""Freed memory goes back to the system after a burst of work (stagewise/memory.py)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from stagewise.memory import AfterQuiet

FRAGMENTED = """
from stagewise.memory import release_freed
def rss_mb():
    return next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmRSS:"))
blocks = [bytearray(3000) for _ in range(20000)]  # ~60 MB in malloc's heap
keep = blocks[::40]  # one block in forty stays: the heap cannot shrink from its top
del blocks
freed = rss_mb()
release_freed()
print(freed, rss_mb())
"""


def test_memory_freed_in_the_middle_of_the_heap_goes_back_to_the_system() -> None:
    out = subprocess.run([sys.executable, "-c", FRAGMENTED], capture_output=True, text=True, check=True, timeout=60)
    freed, released = map(float, out.stdout.split())
    assert freed - released > 40, (freed, released)  # glibc kept the ~58 MB freed until malloc_trim


def test_release_runs_once_after_the_last_of_a_burst_not_within_it() -> None:
    calls: list[float] = []
    ran = threading.Event()
    quiet = AfterQuiet(0.5, release=lambda: (calls.append(time.monotonic()), ran.set()))
    began = time.monotonic()
    for _ in range(5):  # a burst: each end of work puts the release off again
        quiet.done()
        last = time.monotonic()
        time.sleep(0.05)
    assert ran.wait(2)
    time.sleep(0.6)
    assert len(calls) == 1 and calls[0] - last >= 0.49 and calls[0] - began >= 0.69


def test_a_cancelled_release_never_runs() -> None:
    calls: list[int] = []
    quiet = AfterQuiet(0.1, release=lambda: calls.append(1))
    quiet.done()
    quiet.cancel()
    time.sleep(0.3)
    assert calls == []
