"""Makes moto's generated ids and timestamps a function of the journal, so replay reproduces them.

Data flow: before a journaled request runs (live or on replay) the server calls
`Determinism.enter(seq, at)`: moto's shared random generator (`mock_random`) is
seeded with the entry's sequence number and moto's clock is shifted so that "now"
is the entry's recorded time plus the time spent inside the request. Moto code that
bypasses `mock_random` (`uuid.uuid4()` in SNS, SQS, SSM, DynamoDB, Cognito, Lambda,
...; `os.urandom` for S3 multipart upload ids and KMS keys; the stdlib `random`) or
reads the clock directly (`time.time()` for Cognito token `iat`/`exp`) is redirected
here by `install()`, which patches the `uuid` module and, after every newly imported
moto module, the module attributes that hold the originals.
Only the server process calls `install()`.
"""

from __future__ import annotations

import datetime
import importlib.abc
import importlib.machinery
import os
import random
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from moto.moto_api._internal import mock_random

_ORIGINAL_UUID4 = uuid.uuid4
_REAL_TIME = time.time


class _Clock:
    """Real time plus an offset: zero while serving, (recorded - replay time) while replaying."""

    offset = 0.0
    request_at: float | None = None  # the recorded time of the journaled request being run
    thread: int | None = None  # the thread running that request

    def time(self) -> float:
        return _REAL_TIME() + self.offset

    def utcnow(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.time(), datetime.UTC).replace(tzinfo=None)


CLOCK = _Clock()


def _uuid4() -> UUID:
    """Seeded only for the thread running a journaled request: the local CloudFormation's
    deploy threads (and botocore's invocation ids in them) run beside it and must not draw
    from, and so shift, the sequence that replay reproduces."""
    if CLOCK.thread is not None and CLOCK.thread == threading.get_ident():
        return mock_random.uuid4()
    return _ORIGINAL_UUID4()


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


class _OsShim(types.ModuleType):
    """Stands in for the `os` module inside moto modules: `urandom` draws from `mock_random`."""

    def __getattr__(self, name: str) -> object:
        return getattr(os, name)

    @staticmethod
    def urandom(size: int) -> bytes:
        return mock_random.randbytes(size)


_OS_SHIM = _OsShim("os")


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches each moto module right after its body runs (moto imports services lazily, mid-request)."""

    def __init__(self, patch: Callable[[types.ModuleType], None]) -> None:
        self.patch = patch

    def find_spec(self, name: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if not name.startswith("moto."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        run_body = loader.exec_module

        def exec_module(module: types.ModuleType) -> None:
            # A module body that draws from the seeded generator (a default id, a key) must not
            # shift the draws of the request that happened to import it: replay may import it at
            # another moment than the live run did.
            state = mock_random.getstate()
            try:
                run_body(module)
            finally:
                mock_random.setstate(state)
            self.patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


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
        sys.meta_path.insert(0, _PatchOnImport(self.patch_module))

    def patch_new_modules(self) -> None:
        """Redirect originals held by moto modules imported since the last call (cheap when none)."""
        if len(sys.modules) == self._seen_modules:
            return
        self._seen_modules = len(sys.modules)
        for name, module in list(sys.modules.items()):
            if name.startswith("moto.") and module is not None:
                self.patch_module(module)

    def patch_module(self, module: types.ModuleType) -> None:
        attrs = vars(module)
        if attrs.get("uuid4") is _ORIGINAL_UUID4:
            module.uuid4 = _uuid4
        if attrs.get("utcnow") is self._original_utcnow:
            module.utcnow = _utcnow
        if attrs.get("time") is time:
            module.time = _TIME_SHIM
        if attrs.get("os") is os:
            module.os = _OS_SHIM  # S3 multipart upload ids, KMS key material, STS session tokens
        if attrs.get("random") is random:
            module.random = mock_random

    def enter(self, *, seq: int, at: float) -> None:
        self.patch_new_modules()
        mock_random.seed(seq)
        CLOCK.offset = at - _REAL_TIME()
        CLOCK.request_at = at
        CLOCK.thread = threading.get_ident()

    def leave(self) -> None:
        CLOCK.offset = 0.0
        CLOCK.request_at = None
        CLOCK.thread = None
