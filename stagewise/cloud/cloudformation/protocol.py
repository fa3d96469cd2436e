"""CloudFormation's wire protocol (AWS query in, XML out), from botocore's own service model.

Data flow: `is_cloudformation(environ)` recognises a request by its SigV4 credential scope
(`…/<region>/cloudformation/aws4_request`); `parse` turns the form body into the action name
and its input dict (moto's QueryParser over botocore's model of the action); `respond`
serializes a plain result dict, or an `ApiError`, into the exact XML AWS answers (moto's
QuerySerializer), which every AWS SDK and the AWS CLI read back. Nothing here is hand-written
XML, so a field the model adds is served the day the model has it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

from moto.core.exceptions import ServiceException

SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/cloudformation/aws4_request")
DEFAULT_REGION = "us-east-1"


class ApiError(ServiceException):
    """An error CloudFormation answers with: its code, message and HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(code, message)
        self.status = status


def validation(message: str) -> ApiError:
    return ApiError("ValidationError", message)


@dataclass(frozen=True)
class Request:
    action: str
    params: dict[str, Any]
    region: str


def is_cloudformation(environ: dict[str, Any]) -> bool:
    if SCOPE.search(environ.get("HTTP_AUTHORIZATION", "")):
        return True
    return environ.get("HTTP_HOST", "").startswith("cloudformation.")


def region_of(environ: dict[str, Any]) -> str:
    found = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found:
        return found.group(1)
    host = environ.get("HTTP_HOST", "").split(":")[0].split(".")
    return host[1] if len(host) > 3 and host[0] == "cloudformation" else DEFAULT_REGION


@lru_cache(maxsize=1)
def _model() -> Any:
    from moto.core.utils import get_service_model  # moto's loader: its model suits its serializer

    return get_service_model("cloudformation")


def parse(environ: dict[str, Any], body: bytes) -> Request:
    from moto.core.parse import QueryParser

    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    action = (form.get("Action") or query.get("Action") or [""])[0]
    try:
        operation = _model().operation_model(action)
    except Exception as exc:  # botocore raises OperationNotFoundError
        raise ApiError("InvalidAction", f"Could not find operation {action or '(none)'} for CloudFormation") from exc
    flat = {key: values[0] for key, values in {**query, **form}.items()}
    try:
        params = QueryParser(operation).parse({"values": flat})
    except Exception as exc:
        raise validation(f"1 validation error detected: {type(exc).__name__}: {exc}") from exc
    return Request(action, params, region_of(environ))


def respond(action: str, result: dict[str, Any] | ApiError) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the answer AWS gives."""
    from moto.core.serialize import QuerySerializer

    operation = _model().operation_model(action or "DescribeStacks")
    serialized = QuerySerializer(operation).serialize(result)
    body = serialized["body"]
    body = body.replace("request-id", request_id()) if isinstance(body, str) else body
    status = result.status if isinstance(result, ApiError) else serialized.get("status_code", 200)
    payload = body.encode() if isinstance(body, str) else body
    headers = [("Content-Type", "text/xml"), ("Content-Length", str(len(payload))),
               ("x-amzn-RequestId", request_id())]
    return int(status), headers, payload


def request_id() -> str:
    return str(new_uuid())


def new_uuid() -> Any:
    """A random UUID that never draws from moto's seeded generator (determinism.py says why)."""
    import uuid

    return uuid.UUID(bytes=secrets.token_bytes(16), version=4)
