"""Deploy records and the live pointer of a stage, kept in the account's pipeline bucket.

Data flow: a deploy, promote or rollback writes a `DeployRecord` (the build's `BuildRecord`
plus the exact templates and parameters it shipped, so a rollback or promote needs no rebuild)
as PENDING before touching a stack, and again with SUCCEEDED / FAILED and each stack's outcome
at the end. `LivePointer` (live/<stage>.json) names the live build and each stack's live
fingerprint: the planner compares fingerprints to skip unchanged stacks with no write call.
The pointer's build only moves on success; a stack's fingerprint moves when that stack deployed.
"""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from stagewise.build.record import BuildRecord, BuildResult
from stagewise.errors import UserError
from stagewise.pipeline.store import PipelineStore


class Kind(enum.StrEnum):
    DEPLOY = "deploy"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    REMOVE = "remove"


@dataclass(frozen=True)
class StackEntry:
    """One stack as a release ships it."""

    service: str
    template: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        """sha256 of the canonical template + parameters; artifact keys are content hashes inside it."""
        body = json.dumps({"template": self.template, "parameters": self.parameters},
                          sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class DeployRecord:
    build: BuildRecord
    kind: Kind
    stacks: dict[str, StackEntry]  # stack name -> what was shipped
    artifacts: tuple[str, ...] = ()  # artifact keys the templates reference
    source: str = ""  # promote: "<stage>/<build>", rollback: the build rolled back to
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # stack -> outcome, seconds, reason
    finished_at: str = ""

    @property
    def id(self) -> str:
        return self.build.id

    @property
    def result(self) -> BuildResult:
        return self.build.result

    def finished(self, result: BuildResult, message: str, outcomes: dict[str, dict[str, Any]]) -> DeployRecord:
        return replace(self, build=self.build.with_result(result, message), outcomes=outcomes,
                       finished_at=datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["build"] = json.loads(self.build.to_json())
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeployRecord:
        return cls(
            build=BuildRecord.from_json(json.dumps(data["build"])),
            kind=Kind(data["kind"]),
            stacks={name: StackEntry(**entry) for name, entry in data["stacks"].items()},
            artifacts=tuple(data.get("artifacts", ())),
            source=data.get("source", ""),
            outcomes=data.get("outcomes", {}),
            finished_at=data.get("finished_at", ""),
        )


@dataclass(frozen=True)
class LivePointer:
    build: str | None  # the last build that succeeded completely
    fingerprints: dict[str, str]  # stack -> fingerprint of what is deployed now
    updated_at: str = ""


class History:
    """Deploy records and live pointers of the stages of one account."""

    def __init__(self, store: PipelineStore) -> None:
        self.store = store

    def save(self, record: DeployRecord) -> None:
        self.store.put_json(f"builds/{record.build.stage}/{record.id}.json", record.to_json())

    def load(self, stage: str, build_id: str) -> DeployRecord:
        data = self.store.get_json(f"builds/{stage}/{build_id}.json")
        if data is None:
            known = ", ".join(self.ids(stage)[-5:]) or "none"
            raise UserError(f"stage '{stage}' has no build {build_id} (latest: {known}); see `stagewise builds {stage}`")
        return DeployRecord.from_json(data)

    def ids(self, stage: str) -> list[str]:
        prefix = f"builds/{stage}/"
        return [key[len(prefix):-len(".json")] for key in self.store.keys(prefix) if key.endswith(".json")]

    def records(self, stage: str) -> list[DeployRecord]:
        return [self.load(stage, build_id) for build_id in self.ids(stage)]

    def live(self, stage: str) -> LivePointer:
        data = self.store.get_json(f"live/{stage}.json")
        return LivePointer(**data) if data else LivePointer(None, {})

    def live_record(self, stage: str) -> DeployRecord | None:
        pointer = self.live(stage)
        return self.load(stage, pointer.build) if pointer.build else None

    def set_live(self, stage: str, pointer: LivePointer) -> None:
        stamped = replace(pointer, updated_at=datetime.now(UTC).isoformat(timespec="seconds"))
        self.store.put_json(f"live/{stage}.json", asdict(stamped))

    def drop_live(self, stage: str) -> None:
        self.store.s3.delete_object(Bucket=self.store.bucket, Key=f"live/{stage}.json")

    def stages(self) -> list[str]:
        return sorted(key[len("live/"):-len(".json")] for key in self.store.keys("live/") if key.endswith(".json"))
