"""boto3 clients, inside the cloud's own process, whose requests the cloud's WSGI app answers
in-process: the same request, journal and lock as over HTTP, without the socket round trip.

Data flow: botocore signs and serializes the request as usual; at `before-send` (the hook moto's
own mock uses) `dispatch` turns the prepared request into the WSGI environ the HTTP front end would
have made (`wsgi.environ_for`) and calls the app; its status, headers and body go back to botocore
as the HTTP response. Used by the local CloudFormation's deploys, which make hundreds of calls per stack.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse

from stagewise.cloud.guard import INTERNAL
from stagewise.cloud.wsgi import WsgiApp, call, environ_for


class _Raw(io.BytesIO):
    """The body as botocore reads a urllib3 response's."""

    def stream(self, **_: Any) -> Iterable[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def environ_of(request: Any) -> dict[str, Any]:
    """The WSGI environ the HTTP front end makes for this request (PATH_INFO decoded, the raw URI kept)."""
    url = urlsplit(request.url)
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = [(name, value.decode("latin-1") if isinstance(value, bytes) else str(value))
               for name, value in request.headers.items()]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.append(("Host", url.netloc))
    environ = environ_for(request.method, url.path, url.query, headers, body, scheme=url.scheme or "http")
    environ[INTERNAL] = True  # the cloud's own call: its guard does not check what the cloud itself signed
    return environ


def dispatcher(app: WsgiApp) -> Callable[..., AWSResponse]:
    """A `before-send` handler answering every request of a client from `app`."""

    def dispatch(request: Any, **_: Any) -> AWSResponse:
        answer = call(app, environ_of(request))
        return AWSResponse(request.url, answer.code, dict(answer.headers), _Raw(answer.body))

    return dispatch


def in_process(made: Any, app: WsgiApp) -> Any:
    """`made` (a boto3 client) with its requests answered by `app` in this process."""
    made.meta.events.register("before-send", dispatcher(app))
    return made
