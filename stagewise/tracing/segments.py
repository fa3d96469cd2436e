"""X-Ray trace headers and the segment documents AWS's own services write for a traced request.

Data flow: a header `Root=1-<epoch hex>-<96 bits>;Parent=<16 hex>;Sampled=1` (`TraceHeader`) names
the trace and the caller's segment; `gateway_segment` is what API Gateway writes for a request when
the stage has tracing on (origin `AWS::ApiGateway::Stage`), `function_segment` what Lambda writes for
one invocation (origin `AWS::Lambda::Function`, an `Initialization` subsegment on a cold start, then
`Invocation`). The function's own SDK attaches its subsegments to the function segment (its id is
the `Parent` of the `_X_AMZN_TRACE_ID` the function gets). Shapes follow the X-Ray segment document
schema: times are epoch seconds, ids 16 hex digits, `fault` for 5xx, `error` for 4xx, `throttle` for 429.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any


def new_id() -> str:
    """A segment id: 64 random bits as 16 hex digits."""
    return os.urandom(8).hex()


def new_trace_id() -> str:
    """`1-<epoch seconds, 8 hex>-<96 random bits>`, as X-Ray makes them."""
    return f"1-{int(time.time()):08x}-{os.urandom(12).hex()}"


@dataclass(frozen=True)
class TraceHeader:
    root: str
    parent: str | None = None
    sampled: bool | None = None  # None: the receiver decides

    @classmethod
    def parse(cls, text: str | None) -> TraceHeader | None:
        """The header's fields, None when it has no `Root` (a caller's garbage starts a new trace)."""
        fields = dict(part.strip().partition("=")[::2] for part in (text or "").split(";") if "=" in part)
        root = fields.get("Root", "")
        if not root.startswith("1-"):
            return None
        sampled = {"1": True, "0": False}.get(fields.get("Sampled", ""))
        return cls(root=root, parent=fields.get("Parent") or None, sampled=sampled)

    def child(self, parent: str, sampled: bool) -> str:
        """The header a callee gets: same root, `parent` as its caller."""
        return f"Root={self.root};Parent={parent};Sampled={int(sampled)}"


def http_flags(status: int) -> dict[str, bool]:
    """X-Ray's status flags for an HTTP status."""
    flags = {}
    if status >= 500:
        flags["fault"] = True
    elif status >= 400:
        flags["error"] = True
        if status == 429:
            flags["throttle"] = True
    return flags


@dataclass(frozen=True)
class GatewayRequest:
    """What API Gateway's segment records of one request."""

    method: str
    url: str
    client_ip: str
    user_agent: str | None
    status: int
    request_id: str
    api_id: str
    stage: str
    account_id: str
    region: str


def gateway_segment(header: TraceHeader, *, segment_id: str, name: str, request: GatewayRequest,
                    started: float, ended: float) -> dict[str, Any]:
    """API Gateway's segment for one request, named `<api name>/<stage>` as AWS names it."""
    segment: dict[str, Any] = {
        "name": name,
        "id": segment_id,
        "trace_id": header.root,
        "start_time": started,
        "end_time": ended,
        "origin": "AWS::ApiGateway::Stage",
        "resource_arn": f"arn:aws:apigateway:{request.region}::/restapis/{request.api_id}/stages/{request.stage}",
        "http": {
            "request": {"method": request.method, "url": request.url, "client_ip": request.client_ip,
                        "user_agent": request.user_agent},
            "response": {"status": request.status},
        },
        "aws": {"api_gateway": {"account_id": request.account_id, "rest_api_id": request.api_id,
                                "stage": request.stage, "request_id": request.request_id}},
        "annotations": {},
        **http_flags(request.status),
    }
    if header.parent:
        segment["parent_id"] = header.parent
    return segment


@dataclass(frozen=True)
class Invocation:
    """What Lambda's function segment records of one invocation (epoch seconds)."""

    function_name: str
    arn: str
    request_id: str
    started: float
    ended: float
    init_s: float | None  # a cold start's init duration
    fault: str | None  # the error type when the invocation failed


def function_segment(header: TraceHeader, *, segment_id: str, call: Invocation) -> dict[str, Any]:
    """Lambda's `AWS::Lambda::Function` segment: Initialization (cold start), then Invocation."""
    subsegments = []
    invoked = call.started
    if call.init_s is not None:
        invoked = call.started + call.init_s
        subsegments.append(_timed("Initialization", call.started, invoked))
    invocation = _timed("Invocation", invoked, call.ended)
    if call.fault:
        invocation["fault"] = True
    subsegments.append(invocation)
    segment: dict[str, Any] = {
        "name": call.function_name,
        "id": segment_id,
        "trace_id": header.root,
        "start_time": call.started,
        "end_time": call.ended,
        "origin": "AWS::Lambda::Function",
        "resource_arn": call.arn,
        "aws": {"request_id": call.request_id},
        "subsegments": subsegments,
    }
    if call.fault:
        segment["fault"] = True
        segment["cause"] = {"exceptions": [{"type": call.fault, "message": call.fault}]}
    if header.parent:
        segment["parent_id"] = header.parent
    return segment


def _timed(name: str, start: float, end: float) -> dict[str, Any]:
    return {"id": new_id(), "name": name, "start_time": start, "end_time": end}
