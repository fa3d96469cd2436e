"""HTTP/1.1 request framing on llhttp (`httptools`), without I/O: bytes in → `HttpRequest`s out.

Data flow: `RequestParser.feed(data)` hands every byte a connection receives to llhttp (the parser
node.js uses) → its callbacks collect the request target, header fields and body (chunked bodies
decoded) → each complete request is appended to `parser.requests` with its keep-alive flag. A request
that must be refused raises `HttpError(status, message)`; the connection then answers it with
`error_response()` and closes, because the framing of what follows can no longer be trusted.

What is checked here (RFC 9112), so that any I/O layer (`loop.py`'s asyncio server, whether its app
is awaited on the loop or run in its thread pool) gets the same semantics:
- `Transfer-Encoding` with any coding but `chunked` → 501; `chunked` not last, or twice → 400;
  `Transfer-Encoding` together with `Content-Length` → 400;
- `Content-Length` not a plain decimal, negative, overflowing or repeated → 400 (llhttp refuses even
  repeated equal values; RFC 9112 lets a recipient do so);
- a body over `Limits.max_body` (API Gateway's 10 MB) → 413 as soon as it is known: from
  `Content-Length` when the head ends (before a byte of the body is read), for chunked bodies when
  the decoded total passes it;
- a request target over `Limits.max_target` → 414; header fields over `Limits.max_head` bytes in all or
  more than `Limits.max_headers` of them → 431 (checked while the head arrives, never buffered whole);
- an HTTP version other than 1.0/1.1 → 505; an `Expect` other than `100-continue` → 417; anything
  else llhttp refuses (a method it does not know, bad tokens, bare LF, obsolete line folding, bad
  chunk sizes, NUL in a value …) → 400.
Trailer fields of a chunked body are read and dropped (API Gateway does not pass them on).
"""

from __future__ import annotations

import enum
import json
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

import httptools

from stagewise.runtime.events import HttpRequest
from stagewise.runtime.responses import HttpResponse

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit (= gateway.PAYLOAD_LIMIT)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_REASONS = {status.value: status.phrase for status in HTTPStatus}
# Framing is the server's business: these headers from a function's answer are replaced, never passed on.
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_NO_BODY = frozenset({204, 304})


@dataclass(frozen=True)
class Limits:
    max_target: int = 8192  # bytes of the request target → 414 (API Gateway's URL limit)
    max_head: int = 16 * 1024  # bytes of all header fields → 431 (AWS: 10,240; browsers send localhost cookies)
    max_headers: int = 100  # header fields → 431
    max_body: int = MAX_BODY  # bytes of the (decoded) body → 413


class HttpError(Exception):
    """A request refused by the front end: answer `status` with `{"message": message}` and close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


class Phase(enum.Enum):
    IDLE = "idle"  # between requests: no byte of the next one yet
    HEAD = "head"  # request line and header fields arriving
    BODY = "body"  # head done, body arriving


class RequestParser:
    """One connection's request stream. Not thread-safe; feed it from one thread (the event loop)."""

    def __init__(self, *, source_ip: str = "127.0.0.1", limits: Limits = Limits()) -> None:
        self.source_ip = source_ip
        self.limits = limits
        self.requests: deque[tuple[HttpRequest, bool]] = deque()  # (request, keep the connection open)
        self.phase = Phase.IDLE
        self.messages = 0  # requests begun so far (tells a new head from one still arriving)
        self.completed = 0  # requests ended so far
        self.expects_continue = False  # the request in BODY asked for `100 Continue` and has not had it
        self.upgraded = False  # llhttp stopped at an Upgrade/CONNECT: no further request on this connection
        self._parser = httptools.HttpRequestParser(self)
        self._error: HttpError | None = None
        self._reset()

    def _reset(self) -> None:
        self._target: list[bytes] = []
        self._target_size = 0
        self._headers: list[tuple[str, str]] = []
        self._head_size = 0
        self._body: list[bytes] = []
        self._body_size = 0
        self._raw = 0  # bytes fed while this message was in progress (bounds chunk-size/extension overhead)

    # -- input -------------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        """Parse `data`; complete requests land in `self.requests`. Raises HttpError."""
        if self.upgraded:
            return
        began = self.messages if self.phase is not Phase.IDLE else -1
        completed = self.completed
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # An Upgrade (e.g. websocket) or CONNECT request: served as a plain request, then the
            # connection closes (the gateway speaks no other protocol).
            self.upgraded = True
            if self.requests:
                request, _ = self.requests.pop()
                self.requests.append((request, False))
            return
        except httptools.HttpParserCallbackError:
            error, self._error = self._error, None
            if error is None:  # a bug in a callback: still an answer, never a silent close
                error = HttpError(400, "Bad Request")
            raise error from None
        except httptools.HttpParserInvalidMethodError:
            raise HttpError(400, "Bad Request: unknown or malformed method") from None
        except httptools.HttpParserError as exc:
            raise self._refusal(str(exc)) from None
        if self.phase is not Phase.IDLE:
            if began == self.messages:  # the same message all along: every byte was its own
                self._raw += len(data)
            elif completed == self.completed:  # begun in this feed after none ended: the whole feed is its own
                self._raw = len(data)
            else:  # begun after another ended in this feed: what is known (short of one read at most)
                self._raw = self._target_size + self._head_size
            self._check_unfinished()

    def _check_unfinished(self) -> None:
        """Bound what llhttp holds for a message that has not ended yet (a header field still arriving is
        buffered by httptools until its line ends)."""
        limits = self.limits
        # (a long target is refused by on_url, which sees it as it arrives)
        if self.phase is Phase.HEAD and self._raw > limits.max_target + limits.max_head + 64:
            raise HttpError(431, "Request Header Fields Too Large")
        if self.phase is Phase.BODY and self._raw > 2 * limits.max_body + limits.max_head:
            raise HttpError(413, "Request Too Long")

    @staticmethod
    def _refusal(reason: str) -> HttpError:
        if "Content-Length" in reason and "Transfer-Encoding" in reason:
            return HttpError(400, "Bad Request: Content-Length and Transfer-Encoding together")
        if "Content-Length" in reason:
            return HttpError(400, "Bad Request: invalid Content-Length")
        if "Transfer-Encoding" in reason:
            return HttpError(400, "Bad Request: invalid Transfer-Encoding")
        if "HTTP version" in reason:
            return HttpError(505, "HTTP Version Not Supported")
        return HttpError(400, f"Bad Request: {reason}")

    def _fail(self, status: int, message: str) -> None:
        self._error = HttpError(status, message)
        raise self._error

    # -- llhttp callbacks ----------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._reset()
        self.phase = Phase.HEAD
        self.messages += 1

    def on_url(self, part: bytes) -> None:  # called once per feed while the target arrives
        self._target_size += len(part)
        if self._target_size > self.limits.max_target:
            self._fail(414, "Request-URI Too Long")
        self._target.append(part)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.phase is not Phase.HEAD:  # a trailer field of a chunked body
            return
        self._head_size += len(name) + len(value) + 4
        if self._head_size > self.limits.max_head or len(self._headers) >= self.limits.max_headers:
            self._fail(431, "Request Header Fields Too Large")
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        parser = self._parser
        if parser.get_http_version() not in ("1.1", "1.0"):
            self._fail(505, "HTTP Version Not Supported")
        length = None
        chunked = False
        expect = None
        for name, value in self._headers:
            lowered = name.lower()
            if lowered == "transfer-encoding":
                codings = [c.strip().lower() for c in value.split(",") if c.strip()]
                unknown = [c for c in codings if c != "chunked"]
                if unknown:
                    self._fail(501, f"Not Implemented: Transfer-Encoding {', '.join(unknown)}")
                chunked = True
            elif lowered == "content-length":
                length = int(value)  # llhttp let only one plain decimal through
            elif lowered == "expect":
                expect = value.strip().lower()
        if length is not None and length > self.limits.max_body:
            self._fail(413, "Request Too Long")
        if expect is not None and expect != "100-continue":
            self._fail(417, "Expectation Failed")
        self.expects_continue = (expect == "100-continue" and parser.get_http_version() == "1.1"
                                 and (chunked or bool(length)))
        self.phase = Phase.BODY

    def on_body(self, data: bytes) -> None:
        self._body_size += len(data)
        if self._body_size > self.limits.max_body:
            self._fail(413, "Request Too Long")
        self._body.append(data)

    def on_message_complete(self) -> None:
        request = self._request()
        self.requests.append((request, self._parser.should_keep_alive()))
        self.completed += 1
        self.phase = Phase.IDLE
        self.expects_continue = False
        self._reset()

    def _request(self) -> HttpRequest:
        target = b"".join(self._target).decode("ascii", "replace")  # llhttp lets no byte > 0x7e through
        if target.startswith("/"):
            raw_path, _, raw_query = target.partition("#")[0].partition("?")
        elif target == "*":
            raw_path, raw_query = "*", ""
        elif target.lower().startswith(("http://", "https://")):  # absolute-form
            parts = urlsplit(target)
            raw_path, raw_query = parts.path or "/", parts.query
        else:  # authority-form (CONNECT) or garbage
            self._fail(400, "Bad Request: invalid request target")
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        return HttpRequest(
            method=self._parser.get_method().decode("ascii"),
            path=unquote(raw_path) or "/",
            query=parse_qsl(raw_query, keep_blank_values=True),
            headers=self._headers,
            body=body,
            source_ip=self.source_ip,
            raw_path=raw_path,
            raw_query=raw_query,
        )


# -- output -----------------------------------------------------------------------------------------
def error_response(status: int, message: str) -> HttpResponse:
    """What the front end answers itself: a status line, `Content-Type: application/json`, {"message"}."""
    return HttpResponse(status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())


def encode_response(response: HttpResponse, *, keep_alive: bool = True, head: bool = False) -> bytes:
    """Status line + headers + body as one buffer (one write: no Nagle/delayed-ACK stall). Framing headers
    are the server's own: `Content-Length` (none for 1xx/204), `Connection: close` when closing.
    The answer to a HEAD request (`head`) has no body and the `Content-Length` the app gave, which is
    that of the GET it stands for (RFC 9110 §9.3.2; S3's HeadObject), else the body's.
    A header whose name or value holds CR/LF is dropped (no response splitting)."""
    status = response.status
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, '')}"]
    length = None
    for name, value in response.headers:
        text = f"{name}: {value}"
        lowered = name.lower()
        if lowered in _HOP_BY_HOP or "\n" in text or "\r" in text:
            if head and lowered == "content-length" and value.strip().isdigit():
                length = value.strip()
            continue
        lines.append(text)
    body = response.body
    if status < 200 or status in _NO_BODY:
        body = b""
    else:
        lines.append(f"Content-Length: {length if length is not None else len(body)}")
    if head:
        body = b""
    if not keep_alive:
        lines.append("Connection: close")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("latin-1", "replace") + body
