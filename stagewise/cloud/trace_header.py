"""X-Ray's trace header carried onto the SQS messages a request causes, as AWS does.

Data flow: a request's `X-Amzn-Trace-Id` (the X-Ray SDK adds it to every AWS call it traces) is held
for the request (`carrying`) → any SQS message moto enqueues meanwhile without one of its own — the
request's SendMessage, or the copy an SNS Publish delivers to a subscribed queue — gets it as its
`AWSTraceHeader` system attribute → a consumer (the local runtime's SNS → Lambda delivery) continues
the trace. Journaled with the request, so a replay enqueues the same attribute.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

ATTRIBUTE = "AWSTraceHeader"
_current = threading.local()


def install() -> None:
    from moto.sqs.models import SQSBackend

    original = SQSBackend.send_message
    if getattr(original, "_stagewise", False):
        return

    def send_message(self: Any, *args: Any, system_attributes: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        header = getattr(_current, "header", None)
        if header and not (system_attributes or {}).get(ATTRIBUTE):
            system_attributes = {**(system_attributes or {}), ATTRIBUTE: {"DataType": "String", "StringValue": header}}
        return original(self, *args, system_attributes=system_attributes, **kwargs)

    send_message._stagewise = True  # type: ignore[attr-defined]
    SQSBackend.send_message = send_message


@contextmanager
def carrying(environ: dict[str, Any]) -> Iterator[None]:
    """While moto runs this request, messages it enqueues carry the request's trace header."""
    _current.header = environ.get("HTTP_X_AMZN_TRACE_ID")
    try:
        yield
    finally:
        _current.header = None
