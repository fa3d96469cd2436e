"""Deploy records and the live pointer of a stage, kept in the account's pipeline bucket.

Records are `builds/<stage>/<sequence>_<build id>.json`: the sequence keeps them in the order
they were made (two builds of the same second would otherwise tie). Data flow: a deploy,
promote or rollback writes a `DeployRecord` (the build's `BuildRecord`
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

    def _keys(self, stage: str) -> dict[str, str]:
        """build id → object key, oldest first (keys are `builds/<stage>/<sequence>_<id>.json`)."""
        prefix = f"builds/{stage}/"
        keys = [k for k in self.store.keys(prefix) if k.endswith(".json")]
        return {k[len(prefix):-len(".json")].partition("_")[2]: k for k in keys}

    def save(self, record: DeployRecord) -> None:
        stage = record.build.stage
        keys = self._keys(stage)
        key = keys.get(record.id) or f"builds/{stage}/{len(keys) + 1:06d}_{record.id}.json"
        self.store.put_json(key, record.to_json())

    def load(self, stage: str, build_id: str) -> DeployRecord:
        key = self._keys(stage).get(build_id)
        data = self.store.get_json(key) if key else None
        if data is None:
            known = ", ".join(self.ids(stage)[-5:]) or "none"
            raise UserError(f"stage '{stage}' has no build {build_id} (latest: {known}); see `stagewise builds {stage}`")
        return DeployRecord.from_json(data)

    def ids(self, stage: str) -> list[str]:
        """Build ids in the order they were recorded (ids alone tie within one second)."""
        return list(self._keys(stage))

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

    def mark_running(self, stage: str, build_id: str) -> None:
        """`running/<stage>.json` names the build in progress; it outlives a killed process."""
        self.store.put_json(f"running/{stage}.json", {"build": build_id})

    def running(self, stage: str) -> str | None:
        data = self.store.get_json(f"running/{stage}.json")
        return data["build"] if data else None

    def clear_running(self, stage: str) -> None:
        self.store.s3.delete_object(Bucket=self.store.bucket, Key=f"running/{stage}.json")

    def stages(self) -> list[str]:
        return sorted(key[len("live/"):-len(".json")] for key in self.store.keys("live/") if key.endswith(".json"))
