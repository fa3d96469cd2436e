"""Deterministic zip files: the same (path, bytes) entries always give the same zip bytes.

Data flow: a builder collects `Entry(path, data)` pairs → `content_digest(entries)` names the
artifact from its contents alone (independent of the compressor) → `write_zip(entries, dest)`
writes them sorted by path with a fixed timestamp (1980-01-01), fixed Unix permissions
(0o644, 0o755 for executables), no directory entries and DEFLATE at a fixed level, and returns the sha256 of the
zip bytes (what Lambda reports as `CodeSha256`, base64-encoded).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
EXEC_MODE = 0o100755  # kept for executables bundled in wheels
COMPRESS_LEVEL = 6
_UNIX = 3


@dataclass(frozen=True)
class Entry:
    """One file of an archive: its POSIX path inside the zip, its bytes, and whether it is executable."""

    path: str
    data: bytes
    executable: bool = False


def content_digest(entries: Iterable[Entry]) -> str:
    """sha256 over the sorted (path, bytes) pairs: equal contents give equal names on every machine."""
    digest = hashlib.sha256()
    for entry in sorted(entries, key=lambda e: e.path):
        path = entry.path.encode()
        digest.update(len(path).to_bytes(8, "big") + path)
        digest.update(len(entry.data).to_bytes(8, "big") + entry.data)
        digest.update(b"x" if entry.executable else b"-")
    return digest.hexdigest()


def write_zip(entries: Iterable[Entry], dest: Path) -> str:
    """Write `entries` to `dest` atomically and deterministically; return the sha256 of the zip bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=".zip")
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for entry in sorted(entries, key=lambda e: e.path):
                archive.writestr(
                    _info(entry), entry.data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
                )
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return file_sha256(dest)


def read_entries(path: Path) -> list[Entry]:
    """The entries of a zip, in archive order (used by tests and by `stagewise builds show`)."""
    with zipfile.ZipFile(path) as archive:
        return [
            Entry(info.filename, archive.read(info), executable=bool((info.external_attr >> 16) & 0o111))
            for info in archive.infolist()
        ]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _info(entry: Entry) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(entry.path, date_time=FIXED_TIME)
    info.create_system = _UNIX
    info.external_attr = (EXEC_MODE if entry.executable else FILE_MODE) << 16
    return info
