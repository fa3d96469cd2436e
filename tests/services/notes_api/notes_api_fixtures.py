"""Helpers of the notes-api handler tests: sys.path, env, REST v1 proxy events, a Lambda context.

Data flow: `rest_event(method, path, ...)` builds a real API Gateway REST proxy event (v1 shape,
the caller's Cognito identity in requestContext.identity, as an AWS_IAM method sends it) with
`stagewise.testing.api_event`; conftest.py's
`call` fixture runs `notes_api.api.handler` on it with a `lambda_context()` and wraps the answer in
a `Reply`. (A uniquely named module, so `from notes_api_fixtures import ...` never meets another
suite's conftest.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagewise.testing import add_import_paths, api_event, lambda_context

ROOT = Path(__file__).resolve().parents[3]
add_import_paths(ROOT / "services" / "notes-api", ROOT)

TABLE = "test-notes-table"
BUCKET = "test-notes-uploads"
ACCOUNT = "111111111111"
FUNCTION = "test-notes-notes-api-CreateNote"
# Cognito identity ids (`<region>:<uuid>`): what `requestContext.identity.cognitoIdentityId` carries.
ALICE = "us-east-1:11111111-aaaa-4aaa-8aaa-111111111111"
BOB = "us-east-1:22222222-bbbb-4bbb-8bbb-222222222222"
ENV = {
    "TABLE_NAME": TABLE,
    "BUCKET_NAME": BUCKET,
    "STAGE": "test",
    "LOG_LEVEL": "WARNING",
    "POWERTOOLS_SERVICE_NAME": "notes-api",
    "POWERTOOLS_METRICS_NAMESPACE": "notes",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "CORS_ORIGIN": "http://localhost:5173",  # the stage's web app (the stack sets it)
}


@dataclass(frozen=True)
class Reply:
    """What the handler answered."""

    status: int
    body: Any
    raw: dict
    request_id: str


def context() -> Any:
    """A fresh invocation of the notes-api function."""
    return lambda_context(FUNCTION, account_id=ACCOUNT)


def rest_event(
    method: str,
    path: str,
    *,
    user: str | None = ALICE,
    body: Any = None,
    query: dict[str, str] | None = None,
    raw_body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
) -> dict:
    """An API Gateway REST (v1) proxy event as the AWS_IAM method sends it for identity `user`
    (None: a request without an identity); `raw_body` is sent as is (bytes that are not UTF-8
    arrive base64-encoded, as API Gateway passes them), `headers` add to / replace the defaults."""
    resource, path_parameters = _resource(path)
    return api_event(
        method,
        resource,
        body=raw_body if raw_body is not None else body,
        identity=user,
        path_parameters=path_parameters,
        query=query,
        headers={"Accept": "application/json", **(headers or {})},
        account_id=ACCOUNT,
    )


def _resource(path: str) -> tuple[str, dict[str, str] | None]:
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "notes":
        return "/notes/{id}", {"id": parts[1]}
    return path, None
