"""The cloud server caps glibc's malloc arenas before its request threads start: without the cap,
each thread that allocates gets an arena of its own and keeps what it freed there."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import ctypes, ctypes.util, sys, threading
from stagewise.cloud import server
if sys.argv[1] == "capped":
    assert server.limit_malloc_arenas()
def allocate():
    kept = [bytes(4096) for _ in range(100)]  # above pymalloc's 512 bytes: glibc's malloc
    barrier.wait()  # every thread holds its blocks at once, so none hands its arena on
barrier = threading.Barrier(8)
threads = [threading.Thread(target=allocate) for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()  # one "Arena N:" block per arena, on stderr
"""


def _arenas(mode: str) -> int:
    result = subprocess.run([sys.executable, "-c", PROGRAM, mode], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr.count("Arena ")


def test_the_cloud_server_keeps_at_most_two_malloc_arenas() -> None:
    assert _arenas("capped") <= 2
    assert _arenas("free") > 2  # the check can tell: threads get arenas of their own without the cap
