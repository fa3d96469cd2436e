"""What the pipeline keeps in the target account: one S3 bucket per account and region.

`stagewise-<account>-<region>-artifacts` (created by `stagewise bootstrap`: versioned, all
public access blocked, SSE-S3 encrypted) holds

    artifacts/<name>-<hash>.zip      code and layer zips, named by content (uploaded once)
    builds/<stage>/<seq>_<id>.json   one deploy record per deploy, promote or rollback
    live/<stage>.json                the live build id and each stack's live fingerprint
    locks/<stage>.json               the stage's deploy lock

The lock is an S3 conditional write (`PutObject` with `If-None-Match: *`): S3 refuses the put
when the key exists, atomically. Chosen over a DynamoDB table because the bucket already
exists, so bootstrap creates one resource, and the lock lives beside the history it guards.
Releasing deletes the object; a stale lock is broken with `--force-unlock`.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from stagewise.errors import UserError
from stagewise.stacks.naming import artifacts_bucket

MISSING = ("NoSuchKey", "404", "NotFound", "NoSuchBucket")


class NotBootstrapped(UserError):
    """The account has no pipeline bucket yet."""


@dataclass(frozen=True)
class LockHolder:
    holder: str  # user@host
    pid: int
    since: str  # ISO time, UTC
    command: str

    def describe(self) -> str:
        return f"{self.holder} (pid {self.pid}, `{self.command}`) since {self.since}"


class LockHeld(UserError):
    def __init__(self, stage: str, holder: LockHolder) -> None:
        super().__init__(
            f"stage '{stage}' is locked by {holder.describe()}; wait for it to finish. If that process is "
            f"gone (Ctrl-C, kill -9, a crashed CI job), break the lock with: stagewise deploy --stage {stage} "
            "--force-unlock",
            exit_code=3,
        )
        self.holder = holder


def me(command: str) -> LockHolder:
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"
    return LockHolder(f"{user}@{socket.gethostname()}", os.getpid(),
                      datetime.now(UTC).isoformat(timespec="seconds"), command)


def _missing(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] in MISSING


class PipelineStore:
    """Artifacts, history and the lock of one account and region."""

    def __init__(self, s3: Any, *, account_id: str, region: str, account_name: str = "") -> None:
        self.s3 = s3
        self.region = region
        self.account_id = account_id
        self.account_name = account_name or account_id
        self.bucket = artifacts_bucket(account_id, region)

    # -- bootstrap ---------------------------------------------------------------------------
    def bootstrapped(self) -> bool:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if _missing(exc) or exc.response["Error"]["Code"] == "403":
                return False
            raise
        return True

    def require_bootstrapped(self) -> None:
        if not self.bootstrapped():
            raise NotBootstrapped(
                f"account '{self.account_name}' ({self.account_id}, {self.region}) is not bootstrapped: it has no "
                f"bucket {self.bucket} for artifacts, history and the deploy lock. "
                f"Run: stagewise bootstrap --account {self.account_name}"
            )

    def bootstrap(self) -> bool:
        """Create (or bring up to spec) the bucket; True when it was created now."""
        created = not self.bootstrapped()
        if created:
            extra = {} if self.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": self.region}}
            self.s3.create_bucket(Bucket=self.bucket, **extra)
        self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_public_access_block(Bucket=self.bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        self.s3.put_bucket_encryption(Bucket=self.bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        return created

    # -- objects -----------------------------------------------------------------------------
    def get_json(self, key: str) -> Any | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _missing(exc):
                return None
            raise
        return json.loads(body)

    def put_json(self, key: str, data: Any) -> None:
        body = json.dumps(data, sort_keys=True, indent=1, default=str).encode()
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def keys(self, prefix: str) -> list[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def has(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    # -- artifacts ---------------------------------------------------------------------------
    def upload_missing(self, artifacts: dict[str, Path]) -> list[str]:
        """Upload each artifact key that is not there yet; returns the keys uploaded."""
        uploaded = []
        for key, path in sorted(artifacts.items()):
            if not self.has(key):
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=path.read_bytes())
                uploaded.append(key)
        return uploaded

    def copy_missing_from(self, source: PipelineStore, keys: list[str]) -> list[str]:
        """Copy artifact keys from another account's store (promote), only those missing here."""
        copied = []
        for key in sorted(set(keys)):
            if self.has(key):
                continue
            if not source.has(key):
                raise UserError(f"artifact {key} is missing from {source.bucket}; rebuild and deploy the source stage")
            body = source.s3.get_object(Bucket=source.bucket, Key=key)["Body"].read()
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
            copied.append(key)
        return copied

    def put_template(self, stack: str, body: bytes) -> str:
        """Store a large template (content-named) and return the https URL CloudFormation reads."""
        import hashlib

        key = f"templates/{stack}/{hashlib.sha256(body).hexdigest()[:16]}.json"
        if not self.has(key):
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{key}"

    # -- lock --------------------------------------------------------------------------------
    def lock_key(self, stage: str) -> str:
        return f"locks/{stage}.json"

    def lock_holder(self, stage: str) -> LockHolder | None:
        data = self.get_json(self.lock_key(stage))
        return LockHolder(**data) if data else None

    def acquire(self, stage: str, holder: LockHolder) -> None:
        body = json.dumps(holder.__dict__).encode()
        try:
            self.s3.put_object(Bucket=self.bucket, Key=self.lock_key(stage), Body=body, IfNoneMatch="*")
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            current = self.lock_holder(stage) or LockHolder("someone", 0, "just now", "?")
            raise LockHeld(stage, current) from exc

    def release(self, stage: str) -> None:
        self.s3.delete_object(Bucket=self.bucket, Key=self.lock_key(stage))
