"""botocore's HTTP for a worker's calls to the local cloud: a pooled keep-alive socket, llhttp to frame the answer.

Data flow (inside the template, after its preload, beside `sdk_data.share_loader`): `install()` makes
every botocore endpoint created later — so every client a forked worker makes — send through
`LoopbackSession`, a subclass of botocore's own `URLLib3Session`. A request it can send directly is
written on a pooled keep-alive socket in one `sendall`, and its answer is framed by llhttp
(`httptools`, the parser the gateway frames requests with) into the `AWSResponse` botocore parses.
Sent directly: a plain-HTTP loopback endpoint that no proxy setting covers, a body held in memory, an
answer botocore does not stream — the JSON and query protocols' calls (DynamoDB, SQS, SNS, SSM,
STS …) and S3's small ones. Everything else goes through botocore's urllib3 session, unchanged:
streamed answers (S3 GetObject, event streams), file or chunked bodies, `Expect: 100-continue`, HEAD,
HTTPS or any other host, a proxy, a header value or text body that is not Latin-1 or a header
holding a line break (which http.client refuses, so botocore reports it as before).

Why: a warm DynamoDB GetItem spent ~0.69 ms of CPU in its client, ~0.3 ms of it in urllib3's pool
bookkeeping and http.client's request and header objects (whose response headers go through the
`email` parser); sent directly, ~0.40 ms (`make bench`: `sdk_getitem_client_cpu_us`). Measured and
chosen in docs/decisions.md.

What botocore sees is what its own session gives it: the same signed request, a status, headers
(repeated ones joined by ", " as urllib3 joins them) and the whole body; failures raise the
exceptions its session raises (`EndpointConnectionError`, `ConnectTimeoutError`, `ReadTimeoutError`,
`ConnectionClosedError`), so its retries treat them alike. The client's timeouts and socket options
apply; at most `max_pool_connections` sockets stay open per endpoint; a pooled socket the cloud
closed while it was idle is dropped before reuse, as urllib3 drops it.
"""

from __future__ import annotations

import functools
import select
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import httptools
from botocore.awsrequest import AWSResponse, HeadersDict
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.httpsession import URLLib3Session

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})  # http.client sends Content-Length: 0 for these
_READ_SIZE = 65536


class _Answer:
    """llhttp's callbacks for one response: its headers, its body, and whether it is whole."""

    __slots__ = ("parser", "headers", "body", "started", "keep_alive", "complete")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.started = False  # its status line read
        self.keep_alive = False
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        key, text = name.decode("latin-1"), value.decode("latin-1")
        self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text

    def on_status(self, status: bytes) -> None:
        self.started = True

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()  # llhttp forgets it once the message is complete

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


class _ReadBody:
    """The `raw` of an answer read whole: botocore takes a non-streamed body from `stream()` (a streamed
    one, which would read `raw` itself, never comes this way)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        if self._data:
            yield self._data


class _Unsendable(ValueError):
    """A request http.client would refuse to write (a header holding a line break)."""


class _Closed(Exception):
    """The cloud closed the connection before the whole answer came."""


class LoopbackSession(URLLib3Session):
    """botocore's HTTP session, sending what it can to a loopback endpoint directly (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: dict[tuple[str, int], list[socket.socket]] = {}
        self._idle_lock = threading.Lock()

    def send(self, request: Any) -> Any:
        parts = urlsplit(request.url)
        if not self._direct(parts, request):
            return super().send(request)
        try:  # encoded as http.client encodes them; what it would refuse, let it refuse
            body = request.body.encode("latin-1") if isinstance(request.body, str) else bytes(request.body or b"")
            head = self._head(request, parts, len(body))
        except (UnicodeEncodeError, _Unsendable):
            return super().send(request)
        return self._exchange((parts.hostname, parts.port or 80), request, head + body)

    def close(self) -> None:
        with self._idle_lock:
            idle = [sock for socks in self._idle.values() for sock in socks]
            self._idle.clear()
        for sock in idle:
            sock.close()
        super().close()

    def _direct(self, parts: Any, request: Any) -> bool:
        body = request.body
        return (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
                and request.method != "HEAD" and not request.stream_output
                and (body is None or isinstance(body, (bytes, bytearray, str)))
                and "Expect" not in request.headers and not self._chunked(request.headers)
                and not self._proxy_config.proxy_url_for(request.url))

    @staticmethod
    def _head(request: Any, parts: Any, length: int) -> bytes:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        lines = [f"{request.method} {target} HTTP/1.1"]
        headers = request.headers
        if "Host" not in headers:
            lines.append(f"Host: {parts.netloc}")
        for name, value in _pairs(headers):
            lines.append(f"{name}: {value.decode('latin-1') if isinstance(value, bytes) else value}")
        if "Content-Length" not in headers and (length or request.method in _BODY_METHODS):
            lines.append(f"Content-Length: {length}")
        head = "\r\n".join(lines) + "\r\n\r\n"
        if head.count("\n") != len(lines) + 1 or head.count("\r") != len(lines) + 1:
            raise _Unsendable("a line break inside a header")  # never written: no header injected
        return head.encode("latin-1")

    def _exchange(self, address: tuple[str, int], request: Any, message: bytes) -> Any:
        connect_timeout, read_timeout = self._timeouts(request)
        sock = self._take(address) or self._connect(address, connect_timeout, request.url)
        try:
            sock.settimeout(read_timeout)
            sock.sendall(message)
            answer = _read_answer(sock)
        except TimeoutError as exc:
            sock.close()
            raise ReadTimeoutError(endpoint_url=request.url, error=exc) from None
        except (OSError, _Closed, httptools.HttpParserError) as exc:
            sock.close()
            raise ConnectionClosedError(error=exc, request=request, endpoint_url=request.url) from None
        if answer.complete and answer.keep_alive:
            self._give_back(address, sock)
        else:
            sock.close()
        return AWSResponse(request.url, answer.parser.get_status_code(), answer.headers,
                           _ReadBody(b"".join(answer.body)))

    def _timeouts(self, request: Any) -> tuple[float | None, float | None]:
        timeout = self._timeout
        if isinstance(timeout, (int, float)):
            connect = read = timeout
        else:
            connect, read = timeout.connect_timeout, timeout.read_timeout
        override = self._get_request_timeout(request)  # a per-request read timeout from botocore's context
        if override is not None:
            read = override.read_timeout
        return _seconds(connect), _seconds(read)

    def _connect(self, address: tuple[str, int], timeout: float | None, url: str) -> socket.socket:
        try:
            sock = socket.create_connection(address, timeout=timeout)
        except TimeoutError as exc:
            raise ConnectTimeoutError(endpoint_url=url, error=exc) from None
        except OSError as exc:
            raise EndpointConnectionError(endpoint_url=url, error=exc) from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for option in self._socket_options:
            sock.setsockopt(*option)
        return sock

    def _take(self, address: tuple[str, int]) -> socket.socket | None:
        """A pooled socket still open: one the cloud closed (or wrote to) while idle is dropped."""
        while True:
            with self._idle_lock:
                idle = self._idle.get(address)
                sock = idle.pop() if idle else None
            if sock is None:
                return None
            readable = select.poll()
            readable.register(sock, select.POLLIN)
            if not readable.poll(0):
                return sock
            sock.close()

    def _give_back(self, address: tuple[str, int], sock: socket.socket) -> None:
        with self._idle_lock:
            idle = self._idle.setdefault(address, [])
            if len(idle) < self._max_pool_connections:
                idle.append(sock)
                return
        sock.close()


def _pairs(headers: Any) -> Any:
    """A request's headers, name and value: botocore's `HeadersDict` read from its dict, as its
    Mapping `items()` makes a key object and a lookup for each header (~3 µs each)."""
    if isinstance(headers, HeadersDict) and isinstance(getattr(headers, "_dict", None), dict):
        return ((str(key), value) for key, value in headers._dict.items())
    return headers.items()


def _read_answer(sock: socket.socket) -> _Answer:
    """The answer on `sock`. Closed before its status line ends: `_Closed`; closed after it: what came
    (botocore's session takes a body cut short without an error too, and its parser finds what is missing)."""
    answer = _Answer()
    while not answer.complete:
        data = sock.recv(_READ_SIZE)
        if not data:
            if answer.started:
                return answer
            raise _Closed("the connection closed before the answer's status line")
        answer.parser.feed_data(data)
    return answer


def _seconds(value: Any) -> float | None:
    """urllib3's timeout values as a socket takes them (its 'default' sentinel: no timeout of ours)."""
    return float(value) if isinstance(value, (int, float)) else None


def install() -> None:
    """Every botocore endpoint created from now on sends through `LoopbackSession` (unless its creator
    names another session class)."""
    from botocore.endpoint import EndpointCreator

    create_endpoint = EndpointCreator.create_endpoint
    if getattr(create_endpoint, "loopback_session", False):
        return

    @functools.wraps(create_endpoint)
    def with_loopback_session(self: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("http_session_cls", LoopbackSession)
        return create_endpoint(self, *args, **kwargs)

    with_loopback_session.loopback_session = True  # type: ignore[attr-defined]
    EndpointCreator.create_endpoint = with_loopback_session  # type: ignore[method-assign]
