"""Helpers of the notes-api handler tests: sys.path, env, REST v1 proxy events, a fake LambdaContext.

Data flow: `rest_event(method, path, ...)` builds a real API Gateway REST proxy event (v1 shape,
Cognito claims under requestContext.authorizer); conftest.py's `call` fixture runs
`notes_api.api.handler` on it with a `FakeContext` and wraps the answer in a `Reply`.
(A uniquely named module, so `from notes_api_fixtures import ...` never meets another suite's conftest.)
"""

from __future__ import annotations

import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
for entry in (ROOT / "services" / "notes-api", ROOT):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

TABLE = "test-notes-table"
BUCKET = "test-notes-uploads"
REGION = "us-east-1"
ALICE = "11111111-aaaa-4aaa-8aaa-111111111111"
BOB = "22222222-bbbb-4bbb-8bbb-222222222222"
ENV = {
    "TABLE_NAME": TABLE,
    "BUCKET_NAME": BUCKET,
    "STAGE": "test",
    "LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "notes-api",
    "POWERTOOLS_METRICS_NAMESPACE": "notes",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


@dataclass(frozen=True)
class FakeContext:
    """The attributes of a LambdaContext that Powertools reads."""

    aws_request_id: str
    function_name: str = "test-notes-notes-api-CreateNote"
    function_version: str = "$LATEST"
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:111111111111:function:test-notes-notes-api-CreateNote"
    )
    memory_limit_in_mb: int = 256

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass(frozen=True)
class Reply:
    """What the handler answered."""

    status: int
    body: Any
    raw: dict
    request_id: str


def rest_event(
    method: str,
    path: str,
    *,
    user: str | None = ALICE,
    body: Any = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict:
    """An API Gateway REST (v1) proxy event as the Cognito-authorized method sends it."""
    resource, path_parameters = _resource(path)
    text = raw_body if raw_body is not None else (json.dumps(body) if body is not None else None)
    headers = {"Accept": "application/json", "Host": "abc123.execute-api.us-east-1.amazonaws.com"}
    if text is not None:
        headers["Content-Type"] = "application/json"
    authorizer = (
        {"claims": {"sub": user, "email": f"{user}@example.com", "token_use": "id"}} if user else None
    )
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "abc123",
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/test{path}",
            "accountId": "111111111111",
            "apiId": "abc123",
            "stage": "test",
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": "27/Nov/2026:03:00:00 +0000",
            "requestTimeEpoch": 1795748400000,
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest", "cognitoIdentityId": None},
            "authorizer": authorizer,
        },
        "body": text,
        "isBase64Encoded": False,
    }


def _resource(path: str) -> tuple[str, dict[str, str] | None]:
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "notes":
        return "/notes/{id}", {"id": parts[1]}
    return path, None
