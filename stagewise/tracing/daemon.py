"""A local X-Ray daemon: segment documents over UDP on loopback → the trace store.

Data flow: one thread waits for a datagram (the SDK's framing: `{"format": "json", "version": 1}`,
a newline, one segment or subsegment document) on 127.0.0.1:<free port>, lets more arrive for
`BATCH_WAIT_S`, then reads every datagram waiting in the socket's buffer, checks them and stores the
batch in one transaction. Under load it wakes ~20 times a second, not once per segment (thousands):
the gateway and the workers it shares the cores with are not preempted by it, and a burst of requests
costs one commit, not one per segment. A datagram over 64 KB (the daemon's limit), without
the header, not JSON or without `trace_id`/`id` is counted and dropped — it never stops the daemon.
`stats()` gives received / stored / dropped counts (the bench compares sent with stored).
"""

from __future__ import annotations

import argparse
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stagewise import fastjson
from stagewise.lifeline import wait_for_launcher_exit
from stagewise.tracing.emit import PREAMBLE
from stagewise.tracing.store import TraceStore

MAX_DOCUMENT = 64 * 1000  # "up to 64 kB" (X-Ray); a UDP datagram carries at most 65,507 bytes anyway
RECEIVE_BUFFER = 8 * 1024 * 1024  # bursts wait in the kernel, not dropped, while the writer commits
BATCH_WAIT_S = 0.05
MAX_BATCH = 2000


@dataclass
class DaemonStats:
    received: int = 0
    stored: int = 0
    dropped_malformed: int = 0
    dropped_oversized: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        with self.lock:
            return {"received": self.received, "stored": self.stored, "dropped_malformed": self.dropped_malformed,
                    "dropped_oversized": self.dropped_oversized}


def parse_datagram(data: bytes) -> dict[str, Any] | None:
    """The segment document of one datagram, or None if it is not one."""
    head, newline, body = data.partition(b"\n")
    if not newline:
        return None
    try:
        header = fastjson.loads(head)
        document = fastjson.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict) or header.get("format") != "json" or not isinstance(document, dict):
        return None
    if not isinstance(document.get("trace_id"), str) or not isinstance(document.get("id"), str):
        return None
    return document


def bound_socket() -> socket.socket:
    """A UDP socket on a free loopback port, with room for bursts."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.bind(("127.0.0.1", 0))
    return sock


class XRayDaemon:
    def __init__(self, store: TraceStore, *, stage: str, on_error: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.stage = stage
        self.stats = DaemonStats()
        self._on_error = on_error or (lambda message: None)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.address = ""

    def start(self, sock: socket.socket | None = None) -> str:
        """Listen on `sock` (bound by `bound_socket`), else on a free loopback port of its own; returns
        `127.0.0.1:<port>` (what AWS_XRAY_DAEMON_ADDRESS takes)."""
        sock = sock or bound_socket()
        sock.setblocking(False)
        self._socket = sock
        self.address = f"127.0.0.1:{sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._run, args=(sock,), name="xray-daemon", daemon=True)
        self._thread.start()
        return self.address

    def _run(self, sock: socket.socket) -> None:
        while not self._stopping.is_set():
            select.select([sock], [], [])  # the first datagram of a batch (or stop()'s wake-up)
            self._stopping.wait(BATCH_WAIT_S)  # let the rest of the batch arrive
            self._drain(sock)
        self._drain(sock)

    def _drain(self, sock: socket.socket) -> None:
        """Store every document waiting in the socket's buffer, `MAX_BATCH` to a transaction."""
        while True:
            batch = self._read(sock)
            if batch:
                self._store(batch)
            if len(batch) < MAX_BATCH:
                return

    def _read(self, sock: socket.socket) -> list[dict[str, Any]]:
        batch: list[dict[str, Any]] = []
        received = oversized = malformed = 0
        while len(batch) < MAX_BATCH:
            try:
                data = sock.recv(MAX_DOCUMENT + len(PREAMBLE) + 1)
            except (BlockingIOError, OSError):
                break
            if not data:  # stop()'s wake-up
                continue
            received += 1
            if len(data) > MAX_DOCUMENT + len(PREAMBLE):
                oversized += 1
            elif (document := parse_datagram(data)) is None:
                malformed += 1
            else:
                batch.append(document)
        for name, n in (("received", received), ("dropped_oversized", oversized), ("dropped_malformed", malformed)):
            if n:
                self.stats.count(name, n)
        return batch

    def _store(self, batch: list[dict[str, Any]]) -> None:
        try:
            self.stats.count("stored", self.store.add(batch, stage=self.stage))
        except Exception as exc:  # the thread boundary: a full disk loses segments, never the dev session
            self._on_error(f"traces: cannot store {len(batch)} segments: {type(exc).__name__}: {exc}")

    def stop(self) -> None:
        """Stop receiving, store what was received, close."""
        if self._socket is None or self._thread is None:
            return
        self._stopping.set()
        wake = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        wake.sendto(b"", self._socket.getsockname())
        wake.close()
        self._thread.join(5)
        self._socket.close()
        self._socket = None


class DaemonProcess:
    """The daemon in a process of its own (`main`), as `stagewise dev` runs it: parsing and storing
    thousands of segments a second under load must not take the GIL from the gateway's event loop
    (measured: hello at 8 connections 3,450 req/s with the daemon's threads in dev, see
    docs/decisions.md). The socket is bound here, so the address is known before the child runs; the
    child stops — storing what it received — when its stdin closes: on `stop()`, or when dev dies."""

    def __init__(self, store_path: Path, stage: str) -> None:
        sock = bound_socket()
        self.address = f"127.0.0.1:{sock.getsockname()[1]}"
        command = [sys.executable, "-m", "stagewise.tracing.daemon", "--fd", str(sock.fileno()),
                   "--store", str(store_path), "--stage", stage]
        try:  # its own session: dev's Ctrl-C must not cut it before it stores what it has
            self._process = subprocess.Popen(command, pass_fds=(sock.fileno(),), stdin=subprocess.PIPE,
                                             start_new_session=True)
        finally:
            sock.close()

    def stop(self, wait_s: float = 5.0) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(wait_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def main(argv: list[str] | None = None) -> None:
    """`python -m stagewise.tracing.daemon --fd N --store PATH --stage S` (started by DaemonProcess)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    daemon = XRayDaemon(TraceStore(args.store), stage=args.stage,
                        on_error=lambda message: print(message, file=sys.stderr, flush=True))
    daemon.start(socket.socket(fileno=args.fd))
    wait_for_launcher_exit()  # dev's stop(), or dev is gone
    daemon.stop()
    daemon.store.close()


if __name__ == "__main__":
    main()
