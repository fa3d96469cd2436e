"""The local API Gateway's and Lambda's side of tracing: start or continue a request's trace, and send
the segments AWS would write to the daemon named by `AWS_XRAY_DAEMON_ADDRESS` (as the X-Ray SDK does).

Data flow: `GatewayTracer.begin(request)` reads the caller's `X-Amzn-Trace-Id` (or starts a trace) and,
when the API traces, rewrites the header the integration sees to `Root=…;Parent=<gateway segment>`;
`end(...)` sends the gateway segment. `FunctionTracer.begin(header)` (one per function pool) turns a
caller's header into the `_X_AMZN_TRACE_ID` the worker gets (`Parent` = the function segment) and
`end(span, ...)` sends the `AWS::Lambda::Function` segment. With no daemon address nothing is sent and
the worker's header says `Sampled=0`. Sending never fails a request: a document the socket refuses is
dropped, as a UDP send to an absent daemon is on AWS.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any

from stagewise import fastjson
from stagewise.tracing.segments import (
    GatewayRequest,
    Invocation,
    TraceHeader,
    function_segment,
    gateway_segment,
    new_id,
    new_trace_id,
)

DAEMON_ADDRESS = "AWS_XRAY_DAEMON_ADDRESS"
TRACE_HEADER = "X-Amzn-Trace-Id"
PREAMBLE = b'{"format": "json", "version": 1}\n'  # the X-Ray daemon's UDP framing


class Emitter:
    """Sends segment documents to one daemon over UDP."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self.address = (host or "127.0.0.1", int(port))
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Emitter | None:
        address = env.get(DAEMON_ADDRESS)
        return cls(address) if address else None

    def send(self, document: dict[str, Any]) -> None:
        try:
            self._socket.sendto(PREAMBLE + fastjson.dumps(document), self.address)
        except OSError:
            pass  # too big for a datagram, or no daemon: the trace lacks this segment, the request goes on


@dataclass
class GatewaySpan:
    header: TraceHeader
    segment_id: str
    started: float
    sampled: bool

    @property
    def trace_id(self) -> str:
        return self.header.root


class GatewayTracer:
    """API Gateway's tracing of one REST API stage (`TracingEnabled`)."""

    def __init__(self, *, name: str, traced: bool, env: dict[str, str]) -> None:
        self.name = name
        self.emitter = Emitter.from_env(env) if traced else None

    def begin(self, headers: list[tuple[str, str]]) -> GatewaySpan:
        """Continue the caller's trace or start one; `headers` (the request's) then carry it onward."""
        found = [value for key, value in headers if key.lower() == TRACE_HEADER.lower()]
        caller = TraceHeader.parse(found[-1] if found else None) or TraceHeader(new_trace_id())
        sampled = self.emitter is not None and caller.sampled is not False
        span = GatewaySpan(caller, new_id(), time.time(), sampled)
        onward = caller.child(span.segment_id, True) if sampled else f"Root={caller.root}" + (
            ";Sampled=0" if caller.sampled is False else "")  # the caller's "no" holds downstream
        headers[:] = [(k, v) for k, v in headers if k.lower() != TRACE_HEADER.lower()] + [(TRACE_HEADER, onward)]
        return span

    def end(self, span: GatewaySpan, request: GatewayRequest) -> None:
        if span.sampled and self.emitter is not None:
            self.emitter.send(gateway_segment(span.header, segment_id=span.segment_id, name=self.name,
                                              request=request, started=span.started, ended=time.time()))


@dataclass
class FunctionSpan:
    header: TraceHeader
    segment_id: str
    started: float
    sampled: bool

    @property
    def worker_header(self) -> str:
        """The `_X_AMZN_TRACE_ID` of the invocation: the function segment is its SDK's parent."""
        return self.header.child(self.segment_id, self.sampled)


class FunctionTracer:
    """Lambda's tracing of one function (`TracingConfig: Active` samples when the caller did not decide)."""

    def __init__(self, *, name: str, arn: str, active: bool, env: dict[str, str]) -> None:
        self.name = name
        self.arn = arn
        self.emitter = Emitter.from_env(env)
        self.active = active and self.emitter is not None

    def begin(self, caller: str | None) -> FunctionSpan:
        header = TraceHeader.parse(caller) or TraceHeader(new_trace_id())
        decided = header.sampled if header.sampled is not None else self.active
        return FunctionSpan(header, new_id(), time.time(), bool(decided) and self.emitter is not None)

    def end(self, span: FunctionSpan, *, request_id: str, init_ms: float | None, fault: str | None) -> None:
        if not span.sampled or self.emitter is None:
            return
        call = Invocation(function_name=self.name, arn=self.arn, request_id=request_id, started=span.started,
                          ended=time.time(), init_s=None if init_ms is None else init_ms / 1000, fault=fault)
        self.emitter.send(function_segment(span.header, segment_id=span.segment_id, call=call))
