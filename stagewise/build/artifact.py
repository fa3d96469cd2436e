"""What a build step produces: one content-named zip file and the hashes that identify it.

Data flow: `code.build_code` and `deps.build_layer` each return an `Artifact`; the build
record and `artifact_map` read its `key` (the object key in the artifacts bucket, the same in
every account, because the name is the content hash) and `sha256` (of the zip bytes).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

KEY_PREFIX = "artifacts"
HASH_CHARS = 16


class ArtifactKind(enum.StrEnum):
    CODE = "code"
    DEPS = "deps"


@dataclass(frozen=True)
class Artifact:
    kind: ArtifactKind
    path: Path
    digest: str  # sha256 of the sorted (path, bytes) entries: the name
    sha256: str  # sha256 of the zip bytes (Lambda's CodeSha256, hex)
    size: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}/{self.name}"


def artifact_name(kind: ArtifactKind, digest: str) -> str:
    """`code-<sha256[:16]>.zip` / `deps-<sha256[:16]>.zip`."""
    return f"{kind.value}-{digest[:HASH_CHARS]}.zip"
