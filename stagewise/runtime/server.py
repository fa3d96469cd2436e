"""The HTTP/1.1 server in front of the local API Gateway (stdlib, threaded).

Data flow: a connection's request line, headers and body → `HttpRequest` → the
`app` callable (the runtime's dispatcher) → `HttpResponse` → one `sendall` of status
line + headers + body. Keep-alive is HTTP/1.1's default; `TCP_NODELAY` is set and
the response leaves in a single write, so a keep-alive client never waits out Nagle +
delayed ACK (the 40 ms stall `chalice local` has). One thread per connection: a
request blocked on a slow function never holds up another client.
See docs/decisions.md ("Local runtime HTTP server") for why not uvicorn.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from stagewise.runtime.events import HttpRequest
from stagewise.runtime.responses import HttpResponse

App = Callable[[HttpRequest], HttpResponse]
MAX_BODY = 64 * 1024 * 1024  # refuse outright beyond this; the gateway answers 413 above 10 MB


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: App

    def server_bind(self) -> None:
        super().server_bind()
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY on every accepted connection
    server: _Server

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if not self.raw_requestline or len(self.raw_requestline) > 65536:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._serve()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._send(HttpResponse(413, [("Content-Type", "application/json")], b'{"message":"Request Too Long"}'))
            self.close_connection = True
            return
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = HttpRequest(
            method=self.command,
            path=unquote(parts.path) or "/",
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        self._send(self.server.app(request))

    def _send(self, response: HttpResponse) -> None:
        reason = HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {response.status} {reason}"]
        lines += [f"{name}: {value}" for name, value in response.headers if name.lower() != "content-length"]
        lines.append(f"Content-Length: {len(response.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + response.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        """Silenced: the gateway logs one line per request itself."""


class HttpServer:
    def __init__(self, app: App, *, host: str = "127.0.0.1", port: int = 3000) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.app = app
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="stagewise-http", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
