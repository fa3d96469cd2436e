"""The WSGI side of the local cloud: a request as moto's WSGI app needs it, and its answer back.

Data flow: a request from the wire (the HTTP front end, `HttpServer` of `stagewise.runtime.server`)
or from botocore in-process (`inprocess.py`) → `environ_for(...)`: PEP 3333's environ, plus what
moto reads beyond it (`RAW_URI`: moto matches S3 keys against the undecoded path; the map of
original header names WSGI would fold, for `x-amz-meta-*` names holding `_`) → `call(app, environ)`
→ a `Response` (status line, headers, body). `WsgiFrontEnd(app)` is the HTTP server's app: `HttpRequest` →
`HttpResponse`, on the server's event loop for the reads moto answers from memory, in a thread otherwise.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)

from stagewise.cloud.backend_lock import WouldWait, no_waiting
from stagewise.runtime.events import HttpRequest
from stagewise.runtime.responses import HttpResponse

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Framing the front end has already undone: the body reaches the app whole, its length known.
_FRAMING = frozenset({"CONTENT_LENGTH", "TRANSFER_ENCODING"})


def preserved_names(header_names: Iterable[str]) -> dict[str, str]:
    """The environ entry moto reads for header names WSGI would fold (`x-amz-meta-a_b`)."""
    names: dict[str, str] = {}
    for name in header_names:
        if should_preserve_original_header_name(name):
            names.setdefault(environ_key_for_header(name), name)
    return names


def base_environ(*, method: str, path: str, raw_uri: str, query: str, host: str, body: bytes,
                 scheme: str = "http", remote_addr: str = "127.0.0.1") -> dict[str, Any]:
    """PEP 3333's keys for a request whose body is read whole (`path`: PATH_INFO, already decoded)."""
    name, _, port = host.partition(":")
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "REQUEST_URI": raw_uri,
        "RAW_URI": raw_uri,
        "SERVER_NAME": name or "127.0.0.1",
        "SERVER_PORT": port or "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": remote_addr,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def environ_for(method: str, raw_path: str, raw_query: str, headers: Iterable[tuple[str, str]], body: bytes,
                *, scheme: str = "http", remote_addr: str = "127.0.0.1") -> dict[str, Any]:
    """The environ of a request as it came: target still percent-encoded, header fields as sent
    (a repeated field is joined with ", ", as WSGI servers do)."""
    headers = list(headers)
    host = next((value for name, value in headers if name.lower() == "host"), "127.0.0.1")
    raw_uri = raw_path + (f"?{raw_query}" if raw_query else "")
    environ = base_environ(method=method, path=unquote(raw_path, encoding="latin-1"), raw_uri=raw_uri,
                           query=raw_query, host=host, body=body, scheme=scheme, remote_addr=remote_addr)
    for name, value in headers:
        key = name.upper().replace("-", "_")
        if key in _FRAMING:
            continue
        key = key if key == "CONTENT_TYPE" else f"HTTP_{key}"
        environ[key] = f"{environ[key]}, {value}" if key in environ else value
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = preserved_names(name for name, _ in headers)
    return environ


@dataclass
class Response:
    """A WSGI app's answer, read whole."""

    status: str  # the status line's code and reason: "200 OK"
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def code(self) -> int:
        return int(self.status.split(" ", 1)[0])


def call(app: WsgiApp, environ: dict[str, Any]) -> Response:
    """Run `app` on `environ`: its status, headers and whole body (what it passed to `write()` and what
    it returned, in the order it produced them)."""
    answered: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
        answered["status"], answered["headers"] = status, headers
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Response(answered["status"], list(answered["headers"]), b"".join(chunks))


class WsgiFrontEnd:
    """The HTTP server's app: each `HttpRequest` through the WSGI app. A request `at_once` says
    yes to runs on the server's event loop (no thread hop, no pool threads taking turns at the GIL:
    ~10 % of the cloud's CPU per GetItem at 4 connections); should it meet the backend lock held by another thread
    (`WouldWait`), it starts over in the loop's thread pool, where every other request runs."""

    def __init__(self, app: WsgiApp, *, at_once: Callable[[dict[str, Any]], bool] = lambda environ: False) -> None:
        self.app = app
        self.at_once = at_once

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        environ = self._environ(request)
        if self.at_once(environ):
            try:
                with no_waiting():
                    return self._answer(environ)
            except WouldWait:  # nothing changed (a read, the lock never taken); the app read the body
                environ = self._environ(request)
        return await asyncio.get_running_loop().run_in_executor(None, self._answer, environ)

    def _answer(self, environ: dict[str, Any]) -> HttpResponse:
        answer = call(self.app, environ)
        return HttpResponse(answer.code, answer.headers, answer.body)

    @staticmethod
    def _environ(request: HttpRequest) -> dict[str, Any]:
        return environ_for(request.method, request.raw_path, request.raw_query, request.headers, request.body,
                           remote_addr=request.source_ip)
