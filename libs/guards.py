"""Checks made on the raw proxy event before the resolver parses or validates anything.

Data flow: an API handler calls `early_response(event, max_body_bytes=...)` first; it returns a
ready API Gateway proxy response for a request that must not go further (body too large → 413,
no verified caller → 401), or None to let the resolver handle the request. Doing this before
validation means an unauthenticated caller learns nothing about the request schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from libs.auth import caller_id

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


def proxy_response(status: int, body: Mapping[str, Any], *, cors: bool = False) -> dict[str, Any]:
    """An API Gateway REST proxy response with a JSON body (readable cross-origin when `cors`)."""
    headers = {"Content-Type": "application/json"}
    if cors:
        headers["Access-Control-Allow-Origin"] = "*"
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
