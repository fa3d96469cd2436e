"""What the local CloudFormation keeps beside the provisioner's stack state, and where.

A `StackRecord` holds what CloudFormation knows of a stack that the provisioner does not:
its id and creation time, tags, termination protection, stack policy, the template body as
sent, the stack events, the previous template (to roll an interrupted update back), and a
status of its own for the states the provisioner has no word for (REVIEW_IN_PROGRESS of a
stack that only has a change set, DELETE_FAILED). A `ChangeSet` is one change set with its
computed changes. Both are JSON objects in the account's state bucket
(`stagewise-state-<account>-<region>`, next to the provisioner's `stacks/`), written through
the local cloud's own S3 API, so they are journaled, survive kill -9 and `cloud reset` wipes
them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from stagewise.provisioner.store import ensure_bucket, state_bucket

PREFIX = "cloudformation/"
EVENTS_KEPT = 500  # per stack, newest kept (AWS keeps 90 days; a laptop needs the recent ones)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class StackRecord:
    name: str
    stack_id: str
    created: str
    status: str = ""  # REVIEW_IN_PROGRESS / DELETE_FAILED / an interrupted *_IN_PROGRESS; "" = the provisioner's
    reason: str = ""
    tags: list[dict[str, str]] = field(default_factory=list)
    termination_protection: bool = False
    policy: str = ""
    description: str = ""
    capabilities: list[str] = field(default_factory=list)
    template_body: str = ""
    operation: str = ""  # CREATE / UPDATE / DELETE while one runs (a leftover one was interrupted)
    previous_body: str = ""  # the template before the running update, to roll it back
    previous_parameters: dict[str, str] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first

    def add_events(self, events: list[dict[str, Any]]) -> None:
        self.events = (self.events + events)[-EVENTS_KEPT:]


@dataclass
class ChangeSet:
    change_set_id: str
    name: str
    stack_name: str
    stack_id: str
    change_set_type: str  # CREATE / UPDATE
    created: str
    template_body: str
    parameters: dict[str, str]
    capabilities: list[str] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    description: str = ""
    status: str = "CREATE_COMPLETE"
    status_reason: str = ""
    execution_status: str = "AVAILABLE"
    changes: list[dict[str, Any]] = field(default_factory=list)


class RecordStore:
    """JSON records in one account's state bucket, through that account's S3 client."""

    def __init__(self, s3: Any, *, account_id: str, region: str) -> None:
        self.s3 = s3
        self.region = region
        self.bucket = state_bucket(account_id, region)
        self._bucket_ready = False
        # Only the cloud's own process writes records, so what it read or wrote once stays true:
        # polling a stack reads memory, not S3. Copies go out, so a caller's edits stay its own.
        self._stacks: dict[str, StackRecord | None] = {}

    # -- stacks ------------------------------------------------------------------------------
    def stack(self, name: str) -> StackRecord | None:
        if name not in self._stacks:
            data = self._get(f"{PREFIX}stacks/{name}.json")
            self._stacks[name] = StackRecord(**data) if data is not None else None
        cached = self._stacks[name]
        return replace(cached) if cached is not None else None

    def stack_names(self) -> list[str]:
        return [key[len(f"{PREFIX}stacks/"):-len(".json")] for key in self._keys(f"{PREFIX}stacks/")]

    def save_stack(self, record: StackRecord) -> None:
        self._put(f"{PREFIX}stacks/{record.name}.json", asdict(record))
        self._stacks[record.name] = replace(record)

    def drop_stack(self, name: str) -> None:
        for change_set in self.change_sets(name):
            self.drop_change_set(change_set)
        self._delete(f"{PREFIX}stacks/{name}.json")
        self._stacks[name] = None

    # -- change sets ---------------------------------------------------------------------------
    def change_sets(self, stack_name: str) -> list[ChangeSet]:
        found = [self._get(key) for key in self._keys(f"{PREFIX}changesets/{stack_name}/")]
        return sorted((ChangeSet(**data) for data in found if data), key=lambda c: c.created)

    def change_set(self, stack_name: str, name: str) -> ChangeSet | None:
        data = self._get(f"{PREFIX}changesets/{stack_name}/{name}.json")
        return ChangeSet(**data) if data is not None else None

    def save_change_set(self, change_set: ChangeSet) -> None:
        self._put(f"{PREFIX}changesets/{change_set.stack_name}/{change_set.name}.json", asdict(change_set))

    def drop_change_set(self, change_set: ChangeSet) -> None:
        self._delete(f"{PREFIX}changesets/{change_set.stack_name}/{change_set.name}.json")

    # -- S3 ------------------------------------------------------------------------------------
    def _get(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "NoSuchBucket", "404"):
                return None
            raise

    def _keys(self, prefix: str) -> list[str]:
        try:
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchBucket", "404"):
                return []
            raise

    def _put(self, key: str, value: dict[str, Any]) -> None:
        self._ensure_bucket()
        body = json.dumps(value, sort_keys=True, default=str).encode()
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def _delete(self, key: str) -> None:
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("NoSuchKey", "NoSuchBucket", "404"):
                raise

    def _ensure_bucket(self) -> None:
        if not self._bucket_ready:
            ensure_bucket(self.s3, self.bucket, self.region)
            self._bucket_ready = True
