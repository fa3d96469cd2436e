"""Makes moto's generated ids and timestamps a function of the journal, so replay reproduces them.

Data flow: before a journaled request runs (live or on replay) the server calls
`Determinism.enter(seq, at)`: moto's shared random generator (`mock_random`) is
seeded with the entry's sequence number and moto's clock is shifted so that "now"
is the entry's recorded time plus the time spent inside the request. Moto code that
bypasses `mock_random` (`uuid.uuid4()` in SNS, SQS, SSM, DynamoDB, Cognito, Lambda,
...) or reads the clock directly (`time.time()` for Cognito token `iat`/`exp`) is
redirected here by `install()`, which patches the `uuid` module and, after every
newly imported moto module, the module attributes that hold the originals.
Only the server process calls `install()`.
"""

from __future__ import annotations

import datetime
import sys
import time
import types
import uuid
from uuid import UUID

from moto.moto_api._internal import mock_random

_ORIGINAL_UUID4 = uuid.uuid4
_REAL_TIME = time.time


class _Clock:
    """Real time plus an offset: zero while serving, (recorded - replay time) while replaying."""

    offset = 0.0

    def time(self) -> float:
        return _REAL_TIME() + self.offset

    def utcnow(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.time(), datetime.UTC).replace(tzinfo=None)


CLOCK = _Clock()


def _uuid4() -> UUID:
    return mock_random.uuid4()


def _utcnow() -> datetime.datetime:
    return CLOCK.utcnow()


class _TimeShim(types.ModuleType):
    """Stands in for the `time` module inside moto modules: only `time()` is shifted."""

    def __getattr__(self, name: str) -> object:
        return getattr(time, name)

    @staticmethod
    def time() -> float:
        return CLOCK.time()


_TIME_SHIM = _TimeShim("time")


class Determinism:
    """Patches moto once per process and seeds it per journaled request."""

    def __init__(self) -> None:
        self._seen_modules = 0
        self._original_utcnow: object | None = None

    def install(self) -> None:
        import moto.core.utils as core_utils

        uuid.uuid4 = _uuid4
        self._original_utcnow = core_utils.utcnow
        core_utils.utcnow = _utcnow
        self.patch_new_modules()

    def patch_new_modules(self) -> None:
        """Redirect originals held by moto modules imported since the last call (cheap when none)."""
        if len(sys.modules) == self._seen_modules:
            return
        self._seen_modules = len(sys.modules)
        for name, module in list(sys.modules.items()):
            if not name.startswith("moto.") or module is None:
                continue
            attrs = vars(module)
            if attrs.get("uuid4") is _ORIGINAL_UUID4:
                module.uuid4 = _uuid4
            if attrs.get("utcnow") is self._original_utcnow:
                module.utcnow = _utcnow
            if attrs.get("time") is time:
                module.time = _TIME_SHIM

    def enter(self, *, seq: int, at: float) -> None:
        self.patch_new_modules()
        mock_random.seed(seq)
        CLOCK.offset = at - _REAL_TIME()

    def leave(self) -> None:
        CLOCK.offset = 0.0
