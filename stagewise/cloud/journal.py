"""The append-only journal of mutating requests: what makes the local cloud durable.

Data flow: the server hands every mutating request (as a `JournalEntry`: the WSGI
environ keys that matter plus the body) to `Journal.append`, which writes one JSON
line and fsyncs it before the server answers. On start, `Journal.entries()` reads the
lines back in order (dropping a torn last line left by a crash mid-write, which was
never acknowledged) and the server replays them through moto in-process.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stagewise.cloud.layout import JOURNAL_FILE
from stagewise.cloud.sealing import Seal, SealError

__all__ = ["JOURNAL_FILE", "Journal", "JournalEntry", "count_entries"]


@dataclass(frozen=True)
class JournalEntry:
    """One mutating request, enough to rebuild its WSGI environ."""

    seq: int
    at: float
    method: str
    path: str  # PATH_INFO (decoded)
    raw_uri: str  # the request target as sent (moto matches S3 keys against it)
    query: str
    headers: dict[str, str]  # WSGI environ keys (HTTP_*, CONTENT_TYPE) → values
    body: bytes
    preserved: dict[str, str]  # environ key → original header spelling (S3 x-amz-meta-*_*)

    def to_line(self, seal: Seal | None = None) -> bytes:
        """One line of the journal: JSON, sealed when a `seal` is given."""
        plain = self._json()
        return (seal.seal(plain) if seal is not None else plain) + b"\n"

    def _json(self) -> bytes:
        record = {
            "seq": self.seq,
            "at": self.at,
            "method": self.method,
            "path": self.path,
            "raw_uri": self.raw_uri,
            "query": self.query,
            "headers": self.headers,
            "body": base64.b64encode(self.body).decode("ascii"),
        }
        if self.preserved:
            record["preserved"] = self.preserved
        return json.dumps(record, separators=(",", ":")).encode()

    @classmethod
    def from_line(cls, line: bytes, seal: Seal | None = None) -> JournalEntry:
        """A line back (a JSON line written before sealing existed is read as it is)."""
        if not line.lstrip().startswith(b"{"):
            if seal is None:
                raise ValueError("a sealed journal line, and no key to open it")
            line = seal.open(line)
        record = json.loads(line)
        return cls(
            seq=record["seq"],
            at=record["at"],
            method=record["method"],
            path=record["path"],
            raw_uri=record["raw_uri"],
            query=record["query"],
            headers=record["headers"],
            body=base64.b64decode(record["body"]),
            preserved=record.get("preserved", {}),
        )


class Journal:
    """One journal file; appends are durable (fsync) when `append` returns."""

    def __init__(self, path: Path, seal: Seal | None = None) -> None:
        self.path = path
        self.seal = seal
        self._fd: int | None = None
        self.count = 0  # entries in the file
        self.last_seq = 0  # the newest sequence number ever written (also counted by a snapshot)

    def entries(self, *, after: int = 0) -> Iterator[JournalEntry]:
        """Every complete entry with seq > `after`, in order; truncates a torn tail so appends stay well-formed."""
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        good_end = 0
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            try:
                entry = JournalEntry.from_line(line, self.seal)
            except (ValueError, KeyError, SealError):
                break
            good_end += len(line)
            self.count += 1
            if entry.seq > after:
                self.last_seq = entry.seq
                yield entry
        if good_end < len(data):
            with self.path.open("r+b") as handle:
                handle.truncate(good_end)
                os.fsync(handle.fileno())

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def append(self, entry: JournalEntry) -> None:
        if self._fd is None:
            raise RuntimeError("journal is not open")
        view = memoryview(entry.to_line(self.seal))
        while view:
            view = view[os.write(self._fd, view) :]
        os.fdatasync(self._fd)
        self.count += 1
        self.last_seq = entry.seq

    def compact(self) -> None:
        """Empty the file once a durable snapshot covers every entry in it."""
        if self._fd is None:
            raise RuntimeError("journal is not open")
        os.ftruncate(self._fd, 0)
        os.fsync(self._fd)
        self.count = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def count_entries(path: Path) -> int:
    """Number of complete lines in a journal file (0 when there is none)."""
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0
