"""The build record: what one build produced, from which commit, and whether it succeeded.

Data flow: the pipeline makes `BuildRecord.create(stage=…, git=…, functions=…, templates=…)`
(result PENDING) → marks it with `with_result(SUCCEEDED | FAILED, message)` → stores
`to_json()` in the target account's history → `from_json()` reads it back for promote and
rollback, which redeploy exactly the recorded artifact keys and templates without rebuilding.

The id is `b-<UTC yyyymmddHHMMSSmmm>-<7 hex>` (time to the millisecond); the hex part is a
digest of the templates and artifacts, so two builds with the same suffix shipped the same thing.
Within one process the clock part strictly increases (`_Clock`), so two builds of the same
content made in the same millisecond still get different ids.
"""

from __future__ import annotations

import enum
import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from stagewise.build.git import GitState
from stagewise.errors import UserError

RECORD_VERSION = 1


class BuildResult(enum.StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class FunctionArtifact:
    """The artifacts one Lambda function of one stack runs."""

    stack: str
    service: str
    logical_id: str
    code_key: str
    code_sha256: str
    size: int
    layer_key: str | None = None


@dataclass(frozen=True)
class BuildRecord:
    id: str
    stage: str
    commit: str | None
    dirty: bool
    created_at: str  # ISO 8601, UTC
    functions: tuple[FunctionArtifact, ...]
    templates: dict[str, str]  # stack name -> sha256 of the rendered template
    result: BuildResult = BuildResult.PENDING
    message: str = ""
    version: int = field(default=RECORD_VERSION)

    @classmethod
    def create(
        cls,
        *,
        stage: str,
        git: GitState,
        functions: Sequence[FunctionArtifact],
        templates: Mapping[str, str],
        now: datetime | None = None,
    ) -> BuildRecord:
        created = now.astimezone(UTC) if now else _CLOCK.now()
        ordered = tuple(sorted(functions, key=lambda f: (f.stack, f.logical_id)))
        return cls(
            id=build_id(created, content_digest(ordered, templates)),
            stage=stage,
            commit=git.commit,
            dirty=git.dirty,
            created_at=created.isoformat(timespec="seconds"),
            functions=ordered,
            templates=dict(sorted(templates.items())),
        )

    def with_result(self, result: BuildResult, message: str = "") -> BuildRecord:
        return replace(self, result=result, message=message)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, indent=2)

    @classmethod
    def from_json(cls, text: str) -> BuildRecord:
        try:
            data: dict[str, Any] = json.loads(text)
            data["functions"] = tuple(FunctionArtifact(**f) for f in data["functions"])
            data["result"] = BuildResult(data["result"])
            return cls(**data)
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(
                f"a stored build record cannot be read ({exc}); it may come from a newer stagewise — "
                "upgrade, or rebuild and deploy"
            ) from exc


class _Clock:
    """UTC now, truncated to the millisecond and strictly increasing within this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: datetime | None = None

    def now(self) -> datetime:
        current = datetime.now(UTC)
        current = current.replace(microsecond=current.microsecond // 1000 * 1000)
        with self._lock:
            if self._last is not None and current <= self._last:
                current = self._last + timedelta(milliseconds=1)
            self._last = current
        return current


_CLOCK = _Clock()


def build_id(created: datetime, digest: str) -> str:
    stamp = created.astimezone(UTC)
    return f"b-{stamp:%Y%m%d%H%M%S}{stamp.microsecond // 1000:03d}-{digest[:7]}"


def content_digest(functions: Sequence[FunctionArtifact], templates: Mapping[str, str]) -> str:
    payload = {"functions": [asdict(f) for f in functions], "templates": dict(sorted(templates.items()))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
