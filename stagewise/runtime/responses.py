"""HTTP responses the local API Gateway sends: its own errors, and a function's proxy output.

Data flow: a Lambda proxy payload (the handler's return value) → `from_proxy()` →
`HttpResponse`, validated as API Gateway validates it: a JSON object with only the
keys `statusCode` (int), `headers` (name → scalar), `multiValueHeaders` (name → list
of scalars), `body` (string or null) and `isBase64Encoded` (bool). Anything else
raises `MalformedResponse`, which the gateway answers with API Gateway's 502. When both
header maps name a header, the multi-value one wins, as on AWS. A response without a
Content-Type gets `application/json`, which is what API Gateway adds.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

_PROXY_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024


class MalformedResponse(Exception):
    """The function's output is not a valid Lambda proxy response; the message says why."""


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def gateway_error(status: int, message: str, *, error_type: str, request_id: str) -> HttpResponse:
    """An error API Gateway itself answers: {"message": ...} with its x-amzn headers."""
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id),
               ("x-amzn-ErrorType", error_type)]
    return HttpResponse(status, headers, json.dumps({"message": message}).encode())


def from_proxy(payload: Any, *, request_id: str) -> HttpResponse:
    if not isinstance(payload, dict):
        raise MalformedResponse(f"the function returned {type(payload).__name__}, not an object")
    extra = set(payload) - _PROXY_KEYS
    if extra:
        raise MalformedResponse(f"unexpected keys {sorted(extra)} (allowed: {sorted(_PROXY_KEYS)})")
    status = payload.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode must be an integer HTTP status, got {status!r}")
    headers = _headers(payload.get("headers"), payload.get("multiValueHeaders"))
    body = _body(payload.get("body"), payload.get("isBase64Encoded", False))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    headers.append(("x-amzn-RequestId", request_id))
    return HttpResponse(status, headers, body)


def _headers(single: Any, multi: Any) -> list[tuple[str, str]]:
    for name, value in (("headers", single), ("multiValueHeaders", multi)):
        if value is not None and not isinstance(value, dict):
            raise MalformedResponse(f"{name} must be an object, got {type(value).__name__}")
    multi = multi or {}
    out: list[tuple[str, str]] = []
    multi_names = {k.lower() for k in multi}
    for key, value in (single or {}).items():
        if key.lower() not in multi_names:
            out.append((key, _scalar(key, value)))
    for key, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders.{key} must be a list")
        out.extend((key, _scalar(key, v)) for v in values)
    for key, value in out:
        if "\n" in key + value or "\r" in key + value:
            raise MalformedResponse(f"header {key!r} contains a line break")
    return out


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedResponse(f"header {key!r} has a {type(value).__name__} value")


def _body(body: Any, is_base64: Any) -> bytes:
    if not isinstance(is_base64, bool):
        raise MalformedResponse(f"isBase64Encoded must be a boolean, got {is_base64!r}")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResponse(f"body must be a string (serialise it), got {type(body).__name__}")
    if not is_base64:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedResponse("isBase64Encoded is true but body is not base64") from exc
