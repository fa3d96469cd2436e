"""Memory a long-running process freed after a burst of work, handed back to the system.

`stagewise dev` and the local cloud allocate most at start (rendering and deploying the stacks,
restoring the cloud's state) and free much of it at once; glibc's malloc keeps freed pages in its
heaps, so they stay in the process's resident memory for the whole session. Collecting the garbage
and calling `malloc_trim` once that burst is over gave back ~6 MB of dev and ~7 MB of the cloud
(docs/decisions.md). Not for worker templates and their workers: their objects are frozen out of the
collector so that forked workers share their pages.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import threading
from collections.abc import Callable

QUIET_S = 2.0


def release_freed() -> None:
    """Collect garbage, then have glibc return its heaps' free pages (nothing more on another libc)."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


class AfterQuiet:
    """Runs `release_freed` once no `done()` has come for `quiet_s`: after a burst, not within one."""

    def __init__(self, quiet_s: float = QUIET_S, release: Callable[[], None] = release_freed) -> None:
        self.quiet_s = quiet_s
        self._release = release
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def done(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.quiet_s, self._release)
            self._timer.daemon = True
            self._timer.name = "release-freed"
            self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
