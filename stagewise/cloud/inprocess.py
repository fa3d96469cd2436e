"""boto3 clients, inside the cloud's own process, whose requests the cloud's WSGI app answers
in-process: the same request, journal and lock as over HTTP, without the socket round trip.

Data flow: botocore signs and serializes the request as usual; at `before-send` (the hook moto's
own mock uses) `dispatch` turns the prepared request into the WSGI environ cheroot would have made
and calls the app; its status, headers and body go back to botocore as the HTTP response. Used by
the local CloudFormation's deploys, which make hundreds of calls per stack.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSResponse
from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

from stagewise.cloud.gateway import preserved_names
from stagewise.cloud.guard import INTERNAL

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class _Raw(io.BytesIO):
    """The body as botocore reads a urllib3 response's."""

    def stream(self, **_: Any) -> Iterable[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def environ_of(request: Any) -> dict[str, Any]:
    """The WSGI environ cheroot makes for this request (PATH_INFO decoded, the raw URI kept)."""
    url = urlsplit(request.url)
    body = request.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    raw_uri = url.path + (f"?{url.query}" if url.query else "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(url.path, encoding="latin-1"),
        "QUERY_STRING": url.query,
        "REQUEST_URI": raw_uri,
        "RAW_URI": raw_uri,
        "SERVER_NAME": url.hostname or "127.0.0.1",
        "SERVER_PORT": str(url.port or 80),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": url.netloc,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": url.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers.items():
        value = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        key = name.upper().replace("-", "_")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = value
        elif key != "CONTENT_LENGTH":
            environ[f"HTTP_{key}"] = value
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved_names(request.headers.keys())
    environ[INTERNAL] = True  # the cloud's own call: its guard does not check what the cloud itself signed
    return environ


def dispatcher(app: WsgiApp) -> Callable[..., AWSResponse]:
    """A `before-send` handler answering every request of a client from `app`."""

    def dispatch(request: Any, **_: Any) -> AWSResponse:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        body = b"".join(app(environ_of(request), start_response))
        status = int(captured["status"].split(" ", 1)[0])
        return AWSResponse(request.url, status, dict(captured["headers"]), _Raw(body))

    return dispatch


def in_process(made: Any, app: WsgiApp) -> Any:
    """`made` (a boto3 client) with its requests answered by `app` in this process."""
    made.meta.events.register("before-send", dispatcher(app))
    return made
