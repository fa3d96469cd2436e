"""Stack state kept inside the local cloud: S3 bucket `stagewise-state-<account>-<region>`.

Each stack is one object `stacks/<stack>.json` (StackState.to_json). Because it lives in the
local cloud, it shares the cloud's durability (journal) and is wiped by `cloud reset`.
The export registry is derived from these objects, never stored twice.

A deploy writes its state ~100 times (before every create, so a killed process leaves an
intent that finds what the create made: see state.py). With `checkpoints` (a folder in the
cloud's state dir, which `cloud reset` wipes too) those in-flight writes go to a local file,
fsynced, instead of the bucket: ~0.5 ms instead of ~5 ms + the cloud's journal entry each.
The bucket gets the settled points (start, end, rollback) and the checkpoint is removed after
each; a reader takes whichever copy has the higher `revision`, so a killed deploy's progress is
found by the next deploy, `remove`, `outputs` and the runtime alike.

Reads list the bucket (one call) and fetch only objects whose ETag changed since this store
last read them: deploying N stacks in a row reads each unchanged state once, not N times.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from stagewise.fileio import write_atomically
from stagewise.provisioner.state import StackState

PREFIX = "stacks/"
MISSING = ("NoSuchKey", "NoSuchBucket", "404")


def state_bucket(account_id: str, region: str) -> str:
    """The account's bucket for the local cloud's stack state (and the local CloudFormation's records)."""
    return f"stagewise-state-{account_id}-{region}"


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    """Create `bucket` unless it exists (another writer may have made it meanwhile)."""
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError:
        pass
    extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    try:
        s3.create_bucket(Bucket=bucket, **extra)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def encode(state: StackState) -> bytes:
    return json.dumps(state.to_json(), sort_keys=True, default=str).encode()


def decode(body: bytes) -> StackState:
    return StackState.from_json(json.loads(body))


class StateStore:
    """Reads and writes StackState objects in the account's state bucket (and its local checkpoints)."""

    def __init__(
        self, client: Callable[[str], Any], *, account_id: str, region: str, checkpoints: Path | None = None
    ) -> None:
        self._client = client
        self.region = region
        self.bucket = state_bucket(account_id, region)
        self._checkpoints = checkpoints / f"{account_id}-{region}" if checkpoints is not None else None
        self._bucket_ready = False
        self._bodies: dict[str, tuple[str, bytes]] = {}  # key -> (ETag, body) as last read or written
        self._revisions: dict[str, int] = {}  # stack -> highest revision seen, so writes only go up

    @property
    def _s3(self) -> Any:
        return self._client("s3")

    def _ensure_bucket(self) -> None:
        if not self._bucket_ready:
            ensure_bucket(self._s3, self.bucket, self.region)
            self._bucket_ready = True

    # -- reading --------------------------------------------------------------------------

    def load(self, stack_name: str, etag: str | None = None) -> StackState | None:
        """The stack's newest state; `etag` (from a listing) skips the fetch when it is unchanged."""
        stored = self._stored(stack_name, etag)
        local = self._checkpoint(stack_name)
        newest = local if local is not None and (stored is None or local.revision > stored.revision) else stored
        if newest is not None:
            self._seen(stack_name, newest.revision)
        return newest

    def _seen(self, stack_name: str, revision: int) -> None:
        self._revisions[stack_name] = max(revision, self._revisions.get(stack_name, 0))

    def _next_revision(self, state: StackState) -> None:
        state.revision = max(state.revision, self._revisions.get(state.name, 0)) + 1
        self._seen(state.name, state.revision)

    def _stored(self, stack_name: str, etag: str | None) -> StackState | None:
        key = f"{PREFIX}{stack_name}.json"
        cached = self._bodies.get(key)
        if etag is not None and cached is not None and cached[0] == etag:
            return decode(cached[1])  # a fresh object each time: callers mutate what they load
        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in MISSING:
                return None
            raise
        body = answer["Body"].read()
        self._bodies[key] = (answer["ETag"], body)
        return decode(body)

    def _checkpoint(self, stack_name: str) -> StackState | None:
        if self._checkpoints is None:
            return None
        try:
            return decode(self._checkpoint_path(stack_name).read_bytes())
        except FileNotFoundError:
            return None

    def _listing(self) -> dict[str, str]:
        """Stack name -> ETag of every state object in the bucket."""
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=PREFIX)
            objects = [obj for page in pages for obj in page.get("Contents", [])]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in MISSING:
                return {}
            raise
        return {
            obj["Key"][len(PREFIX) : -len(".json")]: obj["ETag"] for obj in objects if obj["Key"].endswith(".json")
        }

    def names(self) -> list[str]:
        return sorted(self._listing())

    def load_all(self) -> list[StackState]:
        states = (self.load(name, etag) for name, etag in sorted(self._listing().items()))
        return [state for state in states if state is not None]

    # -- writing --------------------------------------------------------------------------

    def save(self, state: StackState) -> None:
        """Write a settled point of the stack to the cloud (and drop its now older checkpoint)."""
        self._ensure_bucket()
        self._next_revision(state)
        body = encode(state)
        key = f"{PREFIX}{state.name}.json"
        answer = self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        self._bodies[key] = (answer["ETag"], body)
        if self._checkpoints is not None:
            self._checkpoint_path(state.name).unlink(missing_ok=True)

    def checkpoint(self, state: StackState) -> None:
        """Record an in-flight deploy's progress durably before it calls the cloud (module doc)."""
        if self._checkpoints is None:
            self.save(state)
            return
        self._next_revision(state)
        write_atomically(self._checkpoint_path(state.name), encode(state), durable=True)

    def remove(self, stack_name: str) -> None:
        if self._checkpoints is not None:  # first: a crash in between leaves the cloud copy to retry from
            self._checkpoint_path(stack_name).unlink(missing_ok=True)
        self._s3.delete_object(Bucket=self.bucket, Key=f"{PREFIX}{stack_name}.json")
        self._bodies.pop(f"{PREFIX}{stack_name}.json", None)

    def _checkpoint_path(self, stack_name: str) -> Path:
        assert self._checkpoints is not None
        return self._checkpoints / f"{stack_name}.json"
