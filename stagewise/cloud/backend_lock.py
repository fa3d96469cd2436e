"""The one lock moto's backends are behind, and a thread that must never wait for it: the event loop.

moto's backends are not thread-safe, so every request that touches them holds `BackendLock`. Reads
that moto answers from memory run on the HTTP server's event loop (no thread hop: `cloud/wsgi.py`);
the loop must never block, or every connection would stop while one request waits. So a thread
inside `no_waiting()` does not wait for a lock held elsewhere: its acquire raises `WouldWait`, and
the front end hands the request, untouched by then except for reads, to a pool thread instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_thread = threading.local()


class WouldWait(BaseException):  # noqa: N818 — a signal, like GeneratorExit, not an error
    """The lock is held by another thread and this one may not wait.

    A BaseException on purpose: it must cross moto's, Flask's, botocore's and our own
    `except Exception` handlers (a failed IAM read would otherwise be cached as "no policies")
    to reach the front end that asked not to wait."""


@contextmanager
def no_waiting() -> Iterator[None]:
    """While inside, any `BackendLock` held by another thread raises `WouldWait` on this thread."""
    before = getattr(_thread, "no_waiting", False)
    _thread.no_waiting = True
    try:
        yield
    finally:
        _thread.no_waiting = before


class BackendLock:
    """A plain lock (`with lock:`), except on a thread inside `no_waiting()`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> BackendLock:
        if getattr(_thread, "no_waiting", False):
            if not self._lock.acquire(blocking=False):
                raise WouldWait
        else:
            self._lock.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._lock.release()
