"""Stack state kept inside the local cloud: S3 bucket `stagewise-state-<account>-<region>`.

Each stack is one object `stacks/<stack>.json` (StackState.to_json). Because it lives in the
local cloud, it shares the cloud's durability (journal) and is wiped by `cloud reset`.
The export registry is derived from these objects, never stored twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from stagewise.provisioner.state import StackState

PREFIX = "stacks/"


class StateStore:
    """Reads and writes StackState objects in the account's state bucket."""

    def __init__(self, client: Callable[[str], Any], *, account_id: str, region: str) -> None:
        self._client = client
        self.region = region
        self.bucket = f"stagewise-state-{account_id}-{region}"
        self._bucket_ready = False

    @property
    def _s3(self) -> Any:
        return self._client("s3")

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            extra = (
                {}
                if self.region == "us-east-1"
                else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
            )
            self._s3.create_bucket(Bucket=self.bucket, **extra)
        self._bucket_ready = True

    def load(self, stack_name: str) -> StackState | None:
        try:
            body = self._s3.get_object(Bucket=self.bucket, Key=f"{PREFIX}{stack_name}.json")["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "NoSuchBucket", "404"):
                return None
            raise
        return StackState.from_json(json.loads(body))

    def save(self, state: StackState) -> None:
        self._ensure_bucket()
        body = json.dumps(state.to_json(), sort_keys=True, default=str).encode()
        self._s3.put_object(
            Bucket=self.bucket, Key=f"{PREFIX}{state.name}.json", Body=body, ContentType="application/json"
        )

    def remove(self, stack_name: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=f"{PREFIX}{stack_name}.json")

    def names(self) -> list[str]:
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=PREFIX)
            keys = [obj["Key"] for page in pages for obj in page.get("Contents", [])]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchBucket", "404"):
                return []
            raise
        return sorted(key[len(PREFIX) : -len(".json")] for key in keys if key.endswith(".json"))

    def load_all(self) -> list[StackState]:
        states = (self.load(name) for name in self.names())
        return [state for state in states if state is not None]
