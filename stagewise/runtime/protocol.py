"""The wire format between the runtime and its worker processes (stdlib only: workers import it).

Each message is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON,
on a pair of pipes reserved for the protocol (the function's own stdout and stderr
go elsewhere, so a `print()` in a handler can never corrupt a frame). The reader
waits with `select` so the runtime can give up at a deadline (the function's timeout); an event loop
feeds what it reads to a `FrameBuffer` instead.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from collections.abc import Callable
from typing import Any

_HEADER = struct.Struct(">I")


class WorkerGone(Exception):
    """The other end closed its pipe (the worker exited or was killed)."""


class FrameTimeout(Exception):
    """No complete frame arrived before the deadline."""


def _stdlib_dumps(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode("utf-8")


def encode(message: dict[str, Any], dumps: Callable[[dict[str, Any]], bytes] = _stdlib_dumps) -> bytes:
    """One frame. `dumps`: the runtime passes a faster encoder (stagewise.fastjson); workers keep the stdlib's."""
    data = dumps(message)
    return _HEADER.pack(len(data)) + data


def write_frame(fd: int, message: dict[str, Any]) -> None:
    write_all(fd, encode(message))


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_frame(fd: int, deadline: float | None = None) -> dict[str, Any]:
    """The next message; `deadline` is a time.monotonic() value, None waits forever."""
    (length,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return json.loads(_read_exact(fd, length, deadline))


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise FrameTimeout(f"no answer within the deadline ({size - remaining}/{size} bytes read)")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise WorkerGone("pipe closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


class FrameBuffer:
    """Frames decoded from bytes as they arrive (an event loop's reader feeds it what a read returned)."""

    def __init__(self, loads: Callable[[bytes], Any] = json.loads) -> None:
        self._data = bytearray()
        self._loads = loads

    def feed(self, data: bytes) -> dict[str, Any] | None:
        """The first complete message once its last byte has arrived, else None."""
        self._data += data
        if len(self._data) < _HEADER.size:
            return None
        (length,) = _HEADER.unpack_from(self._data)
        end = _HEADER.size + length
        if len(self._data) < end:
            return None
        message = self._loads(bytes(self._data[_HEADER.size:end]))
        del self._data[:end]
        return message
