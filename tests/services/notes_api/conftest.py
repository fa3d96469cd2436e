"""Fixtures for the notes-api handler tests: moto with the table and bucket, and `call` to run the handler.

Data flow: `aws` sets the function's environment, starts moto in-process and creates the notes
table and bucket the stack would deploy; `call(method, path, ...)` builds a REST v1 proxy event
(`notes_api_fixtures.rest_event`) and runs `notes_api.api.handler` with a fake context → `Reply`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from notes_api_fixtures import BUCKET, ENV, REGION, TABLE, FakeContext, Reply, rest_event


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto in-process with the notes table and uploads bucket; fresh settings and clients."""
    from moto import mock_aws

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    _reset_caches()
    with mock_aws():
        import boto3

        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "userId", "KeyType": "HASH"},
                {"AttributeName": "noteId", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "userId", "AttributeType": "S"},
                {"AttributeName": "noteId", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)
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
        context = FakeContext(aws_request_id=str(uuid.uuid4()))
        raw = handler(request, context)
        body = json.loads(raw["body"]) if raw.get("body") else None
        return Reply(status=raw["statusCode"], body=body, raw=raw, request_id=context.aws_request_id)

    return _call
