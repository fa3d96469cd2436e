"""Checks made on the raw proxy event before the resolver parses or validates anything.

Data flow: an API handler calls `screen_request(event, max_body_bytes=...)` first; it returns
`(refusal, event)`: a ready API Gateway proxy response for a request that must not go further
(no verified caller → 401, body too large → 413, a Content-Type other than JSON in UTF-8 → 415,
a body that is not a bounded UTF-8 JSON object → 400; `libs.bodies`), or None and the event to
give the resolver (its body re-serialised from what was parsed). Doing this before validation
means an unauthenticated caller learns nothing about the request schema, and no body reaches
Powertools' or pydantic's parsers unchecked. `early_response` is the 401/413 part alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from libs.auth import caller_id
from libs.bodies import BodyRefusal, screen_body
from libs.cors import cors_origin

DEFAULT_MAX_BODY_BYTES = 128 * 1024


def body_size(event: Mapping[str, Any]) -> int:
    """Size in bytes of the request body (decoded size for a base64-encoded body)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4
    return len(body.encode("utf-8"))


def early_response(event: Mapping[str, Any], *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> dict | None:
    """A 401 / 413 proxy response for a request to refuse outright, or None."""
    cors = _has_origin(event)
    if caller_id(event) is None:
        return proxy_response(HTTPStatus.UNAUTHORIZED, {"message": "unauthorized"}, cors=cors)
    if body_size(event) > max_body_bytes:
        message = f"body: larger than {max_body_bytes} bytes"
        return proxy_response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": message}, cors=cors)
    return None


def screen_request(
    event: Mapping[str, Any], *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """`(refusal, event)`: a 401 / 413 / 415 / 400 proxy response, or None and the event to resolve."""
    refused = early_response(event, max_body_bytes=max_body_bytes)
    if refused is not None:
        return refused, dict(event)
    screened = screen_body(event)
    if isinstance(screened, BodyRefusal):
        return proxy_response(screened.status, screened.body(), cors=_has_origin(event)), dict(event)
    return None, screened


def proxy_response(status: int, body: Mapping[str, Any], *, cors: bool = False) -> dict[str, Any]:
    """An API Gateway REST proxy response with a JSON body (readable cross-origin when `cors`)."""
    headers = {"Content-Type": "application/json"}
    if cors:
        headers["Access-Control-Allow-Origin"] = cors_origin()
    return {
        "statusCode": int(status),
        "headers": headers,
        "multiValueHeaders": {},
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _has_origin(event: Mapping[str, Any]) -> bool:
    headers = event.get("headers") or {}
    return any(name.lower() == "origin" for name in headers)
