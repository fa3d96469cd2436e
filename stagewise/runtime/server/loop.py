"""The HTTP/1.1 server of the local API and the local cloud: one asyncio event loop for every connection.

Data flow: a connection's bytes → `http1.RequestParser` (llhttp) → `HttpRequest` → the `app`: an
`async def` app (the runtime's dispatcher: gateway and worker pipes on this same loop; the cloud's
WSGI front end) is awaited on the loop, with no thread hop; a plain callable runs in one of `threads`
threads of the loop's executor → `HttpResponse` → `http1.encode_response` → one `transport.write`
(status line + headers + body).

- One event-loop thread (uvloop when installed, else the stdlib loop) owns every socket: a slow or idle
  client costs a few hundred bytes, never a thread. Listen backlog 1024, `TCP_NODELAY`, keep-alive.
- A connection serves its requests one at a time, in order (pipelined requests wait parsed in the
  parser; reading pauses while one waits). Requests of different connections run concurrently, so
  one slow function never holds up another client (a plain app: until `threads` are all busy).
- An `async def` app runs what may block in the loop's default executor (`threads` daemon threads).
- Timeouts, checked by one sweep every 0.25 s: the head of a request must arrive within
  `head_timeout` of its first byte (and the first request within that of the connection opening),
  a body must make progress every `body_timeout`, an idle keep-alive connection is closed after
  `idle_timeout`. A request in progress gets `408 {"message": "Request Timeout"}`, an idle
  connection is closed without a word (as every server does).
- More than `max_connections` open connections → the new one gets `503` and is closed.
- Every refusal (see `http1`) is a status line + JSON body + `Connection: close`; the socket is then
  half-closed and what the client still sends is read and dropped for up to `LINGER_S`, so the
  answer is not lost to a TCP reset (a client still uploading a refused 20 MB body reads its 413).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import socket
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

from stagewise.runtime.events import HttpRequest
from stagewise.runtime.responses import HttpResponse
from stagewise.runtime.server.http1 import (
    CONTINUE,
    HttpError,
    Limits,
    Phase,
    RequestParser,
    encode_response,
    error_response,
)

App = Callable[[HttpRequest], HttpResponse] | Callable[[HttpRequest], Awaitable[HttpResponse]]
LINGER_S = 2.0
SWEEP_S = 0.25
_log = logging.getLogger("stagewise.runtime.server")


@dataclass(frozen=True)
class Timeouts:
    head: float = 10.0  # first byte of a request → end of its head (and connection opened → first request)
    body: float = 10.0  # longest pause while a body arrives
    idle: float = 60.0  # keep-alive connection with no request


class _DaemonPool(Executor):
    """The loop's executor: daemon threads named `stagewise-blocking-N`, started on demand up to `size`
    and kept after (no thread start per job). Daemon, unlike `ThreadPoolExecutor`'s: a job still
    blocked at interpreter exit (an SQS long poll, a hung authorizer) never holds the exit up."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._pending = 0  # submitted, not finished

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()

        def job() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 — handed to whoever awaits the future
                future.set_exception(exc)
            else:
                future.set_result(result)

        with self._lock:
            self._pending += 1
            spawn = self._pending > self._threads and self._threads < self._size
            if spawn:
                self._threads += 1
        self._jobs.put(job)
        if spawn:
            threading.Thread(target=self._work, name=f"stagewise-blocking-{self._threads}", daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job()
            with self._lock:
                self._pending -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            threads, self._threads = self._threads, 0
        for _ in range(threads):
            self._jobs.put(None)


class _Connection(asyncio.Protocol):
    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.parser: RequestParser | None = None
        self.deadline: float | None = None
        self.busy = False  # a request of this connection is with the app
        self.keep_alive = True
        self.closing = False  # answered a refusal (or the server stops): lingering, then closed
        self.counted = False  # counts against max_connections
        self.eof = False  # the client half-closed: answer what is in progress, then close
        self.served = 0
        self.armed_for = -1  # the message whose head deadline is set
        self.reading = True
        self.writing = True

    # -- asyncio callbacks ---------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        server = self.server
        self.transport = transport  # type: ignore[assignment]
        server.connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        peer = transport.get_extra_info("peername")
        self.parser = RequestParser(source_ip=peer[0] if peer else "127.0.0.1", limits=server.limits)
        if server.open_connections >= server.max_connections:
            self._refuse(503, f"Service Unavailable: more than {server.max_connections} open connections")
            return
        self.counted = True
        server.open_connections += 1
        self.deadline = server.loop.time() + server.timeouts.head

    def connection_lost(self, exc: Exception | None) -> None:
        server = self.server
        server.connections.discard(self)
        if self.counted:
            server.open_connections -= 1
            self.counted = False
        self.closing = True
        self.deadline = None

    def data_received(self, data: bytes) -> None:
        if self.closing:  # lingering after a refusal: read and drop
            return
        parser = self.parser
        try:
            parser.feed(data)
        except HttpError as exc:
            self._refuse(exc.status, exc.message)
            return
        if parser.requests and (self.busy or not self.writing):
            self._pause_reading()  # pipelined requests wait parsed; read on once they are answered
        self._next()

    def eof_received(self) -> bool:
        self.eof = True
        if self.closing or not (self.busy or (self.parser and self.parser.requests)):
            if self.parser is not None and self.parser.phase is not Phase.IDLE and not self.closing:
                self._refuse(400, "Bad Request: connection closed before the request ended")
            return False  # the transport closes
        return True  # answer what is in progress first

    def pause_writing(self) -> None:
        self.writing = False

    def resume_writing(self) -> None:
        self.writing = True
        self._next()

    # -- serving -------------------------------------------------------------------------------------
    def _next(self) -> None:
        """Start the next parsed request, or set the deadline for what the connection waits for."""
        if self.busy or self.closing or not self.writing:
            return
        parser = self.parser
        if parser.requests:
            request, self.keep_alive = parser.requests.popleft()
            self.busy = True
            self.deadline = None
            self.server.loop.create_task(self._serve(request))
            return
        if self.eof:
            self.transport.close()
            return
        if not self.reading:
            self._resume_reading()
        if parser.expects_continue:
            parser.expects_continue = False
            self.transport.write(CONTINUE)
        self._arm()

    def _arm(self) -> None:
        server, parser = self.server, self.parser
        now = server.loop.time()
        if parser.phase is Phase.HEAD:
            if self.armed_for != parser.messages:  # a new head: its clock starts now, bytes do not extend it
                self.armed_for = parser.messages
                self.deadline = now + server.timeouts.head
        elif parser.phase is Phase.BODY:
            self.deadline = now + server.timeouts.body
        else:
            self.deadline = now + (server.timeouts.idle if self.served else server.timeouts.head)

    async def _serve(self, request: HttpRequest) -> None:
        server = self.server
        try:
            if server.app_is_async:
                response = await server.app(request)
            else:
                response = await server.loop.run_in_executor(None, server.app, request)
        except Exception:  # noqa: BLE001 — the client still gets an answer
            _log.exception("%s %s failed in the app behind the front end", request.method, request.path)
            response = error_response(500, "Internal server error")
        self._respond(response, request.method == "HEAD")

    def _respond(self, response: HttpResponse, head: bool = False) -> None:
        self.busy = False
        transport = self.transport
        if transport.is_closing():
            return
        keep = self.keep_alive and not self.server.stopping and not (self.eof and not self.parser.requests)
        transport.write(encode_response(response, keep_alive=keep, head=head))
        self.served += 1
        if not keep:
            self.closing = True
            transport.close()
            return
        self._next()

    def _refuse(self, status: int, message: str) -> None:
        """Answer a refusal, half-close, drop what still comes for LINGER_S, then close."""
        self.closing = True
        self.busy = False
        transport = self.transport
        if transport.is_closing():
            return
        transport.write(encode_response(error_response(status, message), keep_alive=False))
        if not self.reading:
            self._resume_reading()
        try:
            transport.write_eof()
        except (OSError, RuntimeError, NotImplementedError):
            transport.close()
            return
        self.deadline = self.server.loop.time() + LINGER_S

    def _pause_reading(self) -> None:
        if self.reading:
            self.reading = False
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if not self.reading:
            self.reading = True
            self.transport.resume_reading()

    def expire(self) -> None:
        """Called by the sweep once `deadline` has passed."""
        self.deadline = None
        if self.closing:
            self.transport.abort()
        elif self.parser.phase is not Phase.IDLE:
            self._refuse(408, "Request Timeout")
        else:
            self.closing = True
            self.transport.close()


class HttpServer:
    """Binds and listens in the constructor (an OSError there means the port is taken); `start()` runs
    the loop in a thread named `stagewise-http`."""

    def __init__(self, app: App, *, host: str = "127.0.0.1", port: int = 3000, limits: Limits = Limits(),
                 timeouts: Timeouts = Timeouts(), max_connections: int = 1000, threads: int = 64,
                 backlog: int = 1024, uvloop: bool = True) -> None:
        self.app = app
        # An `async def` function or method, or an object whose `__call__` is one (the cloud's front end).
        self.app_is_async = inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(type(app).__call__)
        self.limits = limits
        self.timeouts = timeouts
        self.max_connections = max_connections
        self.backlog = backlog
        self.threads = threads
        self._executor = _DaemonPool(threads)
        self.connections: set[_Connection] = set()
        self.open_connections = 0
        self.stopping = False
        self._uvloop = uvloop
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        self._sock = socket.socket(family, kind, proto)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind(address)
            self._sock.listen(backlog)  # clients queue from now on, even before start()
            self._sock.setblocking(False)
        except OSError:
            self._sock.close()
            raise
        self.loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> str:
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, args=(ready, failure), name="stagewise-http", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self.url

    def _new_loop(self) -> asyncio.AbstractEventLoop:
        if self._uvloop:
            try:
                import uvloop
            except ImportError:
                pass
            else:
                return uvloop.new_event_loop()
        return asyncio.new_event_loop()

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = self.loop = self._new_loop()
        # What runs off the loop (a plain app; an async app's blocking work: a cold start, a JWKS fetch,
        # a Lambda authorizer, the cloud's writes): `threads` threads, not asyncio's default of cores + 4.
        loop.set_default_executor(self._executor)
        try:
            self._server = loop.run_until_complete(
                loop.create_server(lambda: _Connection(self), sock=self._sock, backlog=self.backlog))
            loop.call_later(SWEEP_S, self._sweep)
        except BaseException as exc:  # noqa: BLE001 — handed to start()'s caller
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def _sweep(self) -> None:
        now = self.loop.time()
        for connection in [c for c in self.connections if c.deadline is not None and c.deadline <= now]:
            connection.expire()
        if not self.stopping:
            self.loop.call_later(SWEEP_S, self._sweep)

    def stop(self) -> None:
        loop = self.loop
        if loop is None or self._thread is None:
            self._sock.close()
            return
        loop.call_soon_threadsafe(self._shutdown)
        self._thread.join(timeout=5)
        self._executor.shutdown(wait=False)
        self._sock.close()

    def _shutdown(self) -> None:
        self.stopping = True
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.abort()
        self.loop.call_later(0.05, self.loop.stop)  # let the aborts' connection_lost run
