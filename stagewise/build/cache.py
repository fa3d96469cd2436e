"""The local cache of built dependency layers, keyed by what went into them.

Data flow: `deps.build_layer` computes a key (sha256 of the normalised requirements, Python
version, architecture and stripping rules) → `LayerCache.get(key)` returns the cached zip and
its hashes, or None → on a miss the fresh zip is `put` under that key. Entries are written to a
temporary file and renamed, so concurrent builds never see half a zip.

Where: `$STAGEWISE_CACHE_DIR/layers`, else `$XDG_CACHE_HOME/stagewise/layers`, else
`~/.cache/stagewise/layers`. Deleting the folder is always safe.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from stagewise.fileio import write_atomically


def default_cache_dir() -> Path:
    env = os.environ.get("STAGEWISE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "stagewise"


@dataclass(frozen=True)
class CachedLayer:
    zip_path: Path
    digest: str
    sha256: str


@dataclass(frozen=True)
class LayerCache:
    root: Path

    @classmethod
    def default(cls) -> LayerCache:
        return cls(default_cache_dir() / "layers")

    def get(self, key: str) -> CachedLayer | None:
        meta, zip_path = self._paths(key)
        if not (meta.is_file() and zip_path.is_file()):
            return None
        try:
            data = json.loads(meta.read_text())
            return CachedLayer(zip_path=zip_path, digest=data["digest"], sha256=data["sha256"])
        except (ValueError, KeyError):
            return None  # a damaged entry is a miss; the next put replaces it

    def put(self, key: str, *, zip_path: Path, digest: str, sha256: str) -> CachedLayer:
        meta, cached_zip = self._paths(key)
        self.root.mkdir(parents=True, exist_ok=True)
        _atomic_copy(zip_path, cached_zip)
        entry = {"digest": digest, "sha256": sha256}
        write_atomically(meta, json.dumps(entry, sort_keys=True).encode())
        return CachedLayer(zip_path=cached_zip, **entry)

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.json", self.root / f"{key}.zip"


def place(source: Path, dest: Path) -> None:
    """Put a cached file at `dest` (a hard link when possible: no copy of megabytes)."""
    if dest.is_file():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".tmp-{uuid.uuid4().hex}-{dest.name}")
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, dest)


def _atomic_copy(source: Path, dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    os.close(fd)
    shutil.copyfile(source, tmp)
    os.replace(tmp, dest)
