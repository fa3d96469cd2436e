"""boto3 clients built lazily, once per container, and reused by every invocation.

Data flow: `client("dynamodb")` builds the client on first use (region and endpoint come from
the standard AWS environment: `AWS_REGION` as Lambda sets it, then `AWS_DEFAULT_REGION`;
`AWS_ENDPOINT_URL` locally) and caches it; boto3
is imported here only when a client is first needed. `reset()` drops the cache (tests).
"""

from __future__ import annotations

import functools
import os
from typing import Any


@functools.cache
def client(service_name: str) -> Any:
    """The shared boto3 client for `service_name` (S3 clients sign with SigV4, as presigned URLs need)."""
    import boto3
    from botocore.config import Config

    config = Config(signature_version="s3v4") if service_name == "s3" else None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.session.Session().client(service_name, region_name=region, config=config)


def reset() -> None:
    """Forget every cached client (the next `client()` call builds a new one)."""
    client.cache_clear()
