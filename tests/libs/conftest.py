"""Fixtures for the `libs` tests: the repo root on sys.path and moto with a notes table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stagewise.testing import add_import_paths, api_event, create_table, lambda_context, mocked_aws

ROOT = Path(__file__).resolve().parents[2]
add_import_paths(ROOT)

TABLE = "libs-test-notes"
REQUEST_ID = "lambda-request-42"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """moto in-process with an empty notes table (userId HASH, noteId RANGE); a fresh shared client cache."""
    from libs import aws

    aws.reset()
    with mocked_aws():
        client = aws.client("dynamodb")
        create_table(client, TABLE, hash_key="userId", range_key="noteId")
        try:
            yield client
        finally:
            aws.reset()


def rest_event(method: str, path: str, *, body: str | None = None,
               identity: str | None = "us-east-1:00000000-0000-4000-8000-0000000000a1") -> dict:
    """An API Gateway REST (v1) proxy event of an AWS_IAM method signed by Cognito identity `identity`."""
    return api_event(method, path, body=body, identity=identity)


def context() -> Any:
    """A Lambda context whose request id the tests look for."""
    return lambda_context("libs-test", request_id=REQUEST_ID)
