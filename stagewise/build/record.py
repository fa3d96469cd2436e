"""The build record: what one build produced, from which commit, and whether it succeeded.

Data flow: the pipeline makes `BuildRecord.create(stage=…, git=…, functions=…, templates=…)`
(result PENDING) → marks it with `with_result(SUCCEEDED | FAILED, message)` → stores
`to_json()` in the target account's history → `from_json()` reads it back for promote and
rollback, which redeploy exactly the recorded artifact keys and templates without rebuilding.

The id is `b-<UTC yyyymmddHHMMSS>-<7 hex>`; the hex part is a digest of the templates and
artifacts, so two builds with the same suffix shipped the same thing.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
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
        created = (now or datetime.now(UTC)).astimezone(UTC)
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


def build_id(created: datetime, digest: str) -> str:
    return f"b-{created.astimezone(UTC):%Y%m%d%H%M%S}-{digest[:7]}"


def content_digest(functions: Sequence[FunctionArtifact], templates: Mapping[str, str]) -> str:
    payload = {"functions": [asdict(f) for f in functions], "templates": dict(sorted(templates.items()))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
