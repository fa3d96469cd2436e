"""Fixtures for the notes-api handler tests: moto with the table and bucket, and `call` to run the handler.

Data flow: `aws` sets the function's environment, starts moto in-process and creates the notes
table and bucket the stack would deploy; `call(method, path, ...)` builds a REST v1 proxy event
(`notes_api_fixtures.rest_event`) and runs `notes_api.api.handler` with a fake context → `Reply`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from notes_api_fixtures import BUCKET, ENV, TABLE, Reply, context, rest_event

from stagewise.testing import create_table, mocked_aws


@pytest.fixture
def aws() -> Iterator[Any]:
    """moto in-process with the notes table and uploads bucket; fresh settings and clients."""
    import boto3

    with mocked_aws(ENV):
        _reset_caches()
        dynamodb = boto3.client("dynamodb")
        create_table(dynamodb, TABLE, hash_key="userId", range_key="noteId")
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        try:
            yield dynamodb
        finally:
            _reset_caches()


def _reset_caches() -> None:
    from notes_api import notes

    from libs import aws as aws_clients
    from libs import observability, settings

    settings.load.cache_clear()
    observability.metrics.cache_clear()  # its namespace comes from the env set above
    aws_clients.reset()
    notes.table.cache_clear()


@pytest.fixture
def call(aws: Any) -> Any:
    """`call(method, path, user=..., body=..., query=..., raw_body=..., event=...)` → Reply."""
    from notes_api.api import handler

    def _call(
        method: str = "GET", path: str = "/notes", *, event: dict | None = None, **kwargs: Any
    ) -> Reply:
        request = event if event is not None else rest_event(method, path, **kwargs)
        invocation = context()
        raw = handler(request, invocation)
        body = json.loads(raw["body"]) if raw.get("body") else None
        return Reply(status=raw["statusCode"], body=body, raw=raw, request_id=invocation.aws_request_id)

    return _call
