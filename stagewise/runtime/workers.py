"""Warm worker processes that run Lambda functions, one pool per function.

Data flow: `WorkerSet.pool(logical_id)` → `FunctionPool.invoke(event)` acquires an idle
worker (or starts one — the caller pays that cold start, as on Lambda — up to
`max_workers`, then queues), sends one `invoke` frame, waits at most the function's
`Timeout`, and returns an `InvokeResult`. A worker that times out is killed (with
its process group) and a fresh one is pre-warmed; one that crashes is dropped.

Each worker starts with *only* the function's resolved environment, the caller's
base variables (endpoint, credentials) and Lambda's reserved variables — never this
process's environment — so functions cannot see each other's settings.

Workers report the source files they import; `restart_if_uses(paths)` (hot reload)
retires the workers of a pool that imported a changed file and pre-warms a new one.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import importlib.util
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import stagewise
from stagewise import fastjson
from stagewise.runtime.events import new_request_id
from stagewise.runtime.import_scope import Scope
from stagewise.runtime.model import FunctionSpec
from stagewise.runtime.protocol import (
    FrameBuffer,
    FrameTimeout,
    WorkerGone,
    encode,
    read_frame,
    write_all,
    write_frame,
)
from stagewise.runtime.template import ForkedProcess, Template, TemplateUnavailable
from stagewise.tracing.emit import FunctionTracer
from stagewise.tracing.logs import console_text

DEFAULT_MAX_WORKERS = 3  # per function; 4 served no more on 2 cores and cost a ~23 MB process (decisions.md)
# A file's mtime comes from the kernel's coarse clock, up to a tick (1-10 ms) behind time.time(): a save
# stamped less than this before a restart may have been written after it, so it restarts again.
MTIME_SLACK_S = 0.02
PIPE_CAPACITY = 64 * 1024  # Linux's default pipe buffer
INIT_LIMIT_S = 10.0  # Lambda's init phase limit for on-demand functions
WAIT_RECHECK_S = 0.5  # a request waiting for a worker checks again this often, woken or not
# How long a cold start waits for a template still preloading before it starts a plain process:
# less than that process would take to import the same libraries (0.2-0.46 s for the notes app).
TEMPLATE_WAIT_S = 0.3
Log = Callable[[str], None]
FunctionLog = Callable[[str, str, str, "str | None"], None]  # (logical id, name, line, trace header)


class InvokeStatus(enum.Enum):
    OK = "ok"
    FUNCTION_ERROR = "function_error"  # the handler raised (or returned something not JSON)
    INIT_ERROR = "init_error"  # the handler module failed to import
    TIMEOUT = "timeout"
    CRASHED = "crashed"  # the process died mid-invoke


@dataclass
class InvokeResult:
    status: InvokeStatus
    request_id: str
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    init_ms: float | None = None  # set on a cold start

    @property
    def ok(self) -> bool:
        return self.status is InvokeStatus.OK


def worker_environment(spec: FunctionSpec, *, base: dict[str, str], region: str) -> dict[str, str]:
    """Exactly what the function's process sees: its variables, the base, Lambda's reserved ones."""
    region = spec.region or region
    today = datetime.now(UTC).strftime("%Y/%m/%d")
    reserved = {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"{today}/[$LATEST]{secrets.token_hex(16)}",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "_HANDLER": spec.handler,
        "LAMBDA_TASK_ROOT": str(spec.source_dir),
        "TZ": "UTC",
        "LANG": "en_US.UTF-8",
    }
    process = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "PYTHONPATH": str(Path(stagewise.__file__).resolve().parent.parent),
    }
    return {**spec.environment, **base, **reserved, **process}


def _drop_bytecode(paths: set[str]) -> None:
    """Delete the cached bytecode of changed sources. Python trusts a .pyc whose recorded source
    mtime (whole seconds) and size still match, so an edit of the same length within the same
    second would otherwise load the old code."""
    for path in paths:
        try:
            os.unlink(importlib.util.cache_from_source(path))
        except (OSError, ValueError, NotImplementedError):
            continue


def _newest_mtime(paths: set[str]) -> float:
    """The latest modification time among `paths` (a deleted file counts as changed now)."""
    newest = 0.0
    for path in paths:
        try:
            newest = max(newest, os.stat(path).st_mtime)
        except OSError:
            return time.time()
    return newest


@dataclass(frozen=True)
class _Call:
    request_id: str
    timeout_s: float
    message: dict[str, Any]


def _resolve(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _Waiter:
    """A caller queued for a worker: an `invoke_async` request (woken on its loop) or a thread
    (`invoke`: woken by its event). `worker` is set under the pool's lock when one is handed to it;
    the wake-up only says "look"."""

    __slots__ = ("loop", "future", "event", "worker")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop
        self.future: asyncio.Future | None = loop.create_future() if loop is not None else None
        self.event: threading.Event | None = threading.Event() if loop is None else None
        self.worker: Worker | None = None

    def rearm(self) -> None:
        """Ready for the next wake-up, after one that found nothing (the pool's lock is held)."""
        if self.event is not None:
            self.event.clear()
        elif self.loop is not None:
            self.future = self.loop.create_future()

    def wake(self) -> None:
        if self.event is not None:
            self.event.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:  # a release on the caller's own loop (the warm path): no self-pipe write
            _resolve(self.future)
            return
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:  # that loop is closed: the server stopped
            pass


def _settle(future: asyncio.Future, *, result: Any = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def import_scope_of(spec: FunctionSpec) -> Scope:
    """What the function's code may import, as on Lambda (`import_scope.py`), in the build's own terms:
    its folder's requirements file is its layer's input, the runtime ships RUNTIME_PROVIDED, and its
    code zip holds the files `service_sources` picks from its folder plus the shared libs package."""
    from stagewise.build.code import service_sources
    from stagewise.build.deps import RUNTIME_PROVIDED, python_version_of
    from stagewise.build.imports import ROOT_PACKAGE
    from stagewise.build.service import REQUIREMENTS

    folder = spec.source_dir
    code = {path.relative_to(folder).parts[0].partition(".")[0] for path in service_sources(folder)}
    return Scope(str(folder / REQUIREMENTS), tuple(sorted(RUNTIME_PROVIDED)), tuple(sorted(code | {ROOT_PACKAGE})),
                 python_version_of(spec.runtime))


def kill_worker_process(pid: int) -> None:
    """SIGKILL a worker's process group (what its handler started dies with it) — or the worker alone
    when it has no group yet: one just forked from the template makes its own session right after the
    fork, and a kill issued before that (a replacement forked while the runtime stops) would find no
    group, leave the worker running, and `kill()` would wait for it forever."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Worker:
    """One process hosting one function; used by one request at a time.

    Forked from the runtime's worker template when there is one (`template.py`), else started as a
    plain `python -m stagewise.runtime.worker_main` process."""

    def __init__(self, spec: FunctionSpec, *, env: dict[str, str], repo_root: Path, log: Log, generation: int,
                 scope: Scope, template: Template | None = None, function_log: FunctionLog | None = None):
        self.spec = spec
        self.trace: str | None = None  # the invocation in flight: its output belongs to that trace
        self._function_log = function_log
        self.generation = generation
        self.ready = False
        self.init_ms: float | None = None
        self.files: list[str] = []
        self._log = log
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        log_r, log_w = os.pipe()
        self._started = time.perf_counter()
        try:
            self.process = self._start(template, env, repo_root, (to_child_r, from_child_w, log_w), scope)
        finally:
            for fd in (to_child_r, from_child_w, log_w):
                os.close(fd)
        threading.Thread(target=self._forward_logs, args=(log_r,), name=f"log-{spec.name}", daemon=True).start()

    def _start(self, template: Template | None, env: dict[str, str], repo_root: Path,
               fds: tuple[int, int, int], scope: Scope) -> subprocess.Popen | ForkedProcess:
        spec = self.spec
        if template is not None:
            request = {"handler": spec.handler, "source": str(spec.source_dir), "root": str(repo_root), "env": env,
                       "scope": scope.to_json()}
            try:
                return template.fork(request, fds)
            except TemplateUnavailable:
                pass  # the template said why, once; this worker starts the slow way
        to_child_r, from_child_w, log_w = fds
        command = [sys.executable, "-m", "stagewise.runtime.worker_main", "--in", str(to_child_r),
                   "--out", str(from_child_w), "--handler", spec.handler, "--source", str(spec.source_dir),
                   "--root", str(repo_root), "--scope", json.dumps(scope.to_json())]
        return subprocess.Popen(command, env=env, cwd=spec.source_dir, pass_fds=(to_child_r, from_child_w),
                                stdin=subprocess.DEVNULL, stdout=log_w, stderr=log_w, start_new_session=True)

    def _forward_logs(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as stream:
            for raw in stream:
                line = raw.decode("utf-8", "replace").rstrip()
                self._log(f"[{self.spec.name}] {console_text(line)}")
                if self._function_log is not None:
                    self._function_log(self.spec.logical_id, self.spec.name, line, self.trace)

    def wait_ready(self, deadline: float) -> dict[str, Any]:
        """The init report: {"ok": True, ...} or {"ok": False, "error": {...}}."""
        message = read_frame(self._from_child, deadline)
        self.files.extend(message.get("modules", []))
        self.ready = bool(message.get("ok"))
        self.init_ms = (time.perf_counter() - self._started) * 1000
        return message

    def call(self, message: dict[str, Any], deadline: float) -> dict[str, Any]:
        self.trace = message.get("trace_id") or self.trace
        write_frame(self._to_child, message)
        reply = read_frame(self._from_child, deadline)
        self.files.extend(reply.get("modules", []))
        return reply

    async def call_async(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        """`call` on the running event loop: the answer is read when the pipe is readable."""
        self.trace = message.get("trace_id") or self.trace
        loop = asyncio.get_running_loop()
        data = encode(message, fastjson.dumps)
        if len(data) > PIPE_CAPACITY:  # the worker drains it, but a large copy must not stall the loop
            await loop.run_in_executor(None, write_all, self._to_child, data)
        else:
            write_all(self._to_child, data)  # fits the idle worker's empty pipe: returns at once
        reply = await self._next_frame(loop, timeout_s)
        self.files.extend(reply.get("modules", []))
        return reply

    def _next_frame(self, loop: asyncio.AbstractEventLoop, timeout_s: float) -> asyncio.Future:
        """The worker's next frame, or FrameTimeout after `timeout_s` (a timer on the loop: cheaper per
        request than `asyncio.wait_for`, which wraps the wait in a task of its own)."""
        future: asyncio.Future = loop.create_future()
        buffer, fd = FrameBuffer(fastjson.loads), self._from_child
        timer = loop.call_later(timeout_s, lambda: _settle(future, error=FrameTimeout(
            f"no answer within {timeout_s:.2f} s")))

        def readable() -> None:
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                return
            except OSError as exc:
                return _settle(future, error=exc)
            if not chunk:
                return _settle(future, error=WorkerGone("pipe closed"))
            message = buffer.feed(chunk)
            if message is not None:
                _settle(future, result=message)

        loop.add_reader(fd, readable)

        def done(_: asyncio.Future) -> None:
            loop.remove_reader(fd)
            timer.cancel()

        future.add_done_callback(done)
        return future

    def exit_code(self, wait_s: float = 1.0) -> int | None:
        """The exit code of a worker that closed its pipe (it may take a moment to be reaped)."""
        try:
            return self.process.wait(wait_s)
        except subprocess.TimeoutExpired:
            return None

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            kill_worker_process(self.process.pid)
        self.process.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self._to_child = self._from_child = -1


class FunctionPool:
    """The warm workers of one function: reuse, grow under concurrency, retire on reload."""

    def __init__(self, spec: FunctionSpec, *, env: dict[str, str], repo_root: Path, log: Log,
                 max_workers: int = DEFAULT_MAX_WORKERS, template: Template | None = None,
                 function_log: FunctionLog | None = None) -> None:
        self.spec = spec
        self.template = template
        self.tracer = FunctionTracer(name=spec.name, arn=spec.arn, active=spec.tracing, env=env)
        self.sampled = self.tracer.active  # Active tracing, and a daemon to send to
        self._function_log = function_log
        self._env = env
        self._repo_root = repo_root
        self._log = log
        self._max = max_workers
        self._lock = threading.RLock()  # `files` is read under it too
        self._idle: list[Worker] = []
        self._all: set[Worker] = set()
        self._waiters: collections.deque[_Waiter] = collections.deque()  # callers waiting for a worker, oldest first
        self._warming = 0
        self._generation = 0
        self._generation_began = 0.0  # wall time the current generation's code was loaded from
        self._scope: tuple[float, Scope] | None = None  # (folder's mtime, the import scope read then)
        self.last_used = 0.0  # monotonic time of the last invoke: reload pre-warms recent functions first
        self._closed = False
        self.started = 0  # workers ever started (for tests and the console)

    @property
    def files(self) -> set[str]:
        with self._lock:
            return {f for w in self._all if w.generation == self._generation for f in w.files}

    def worker_count(self) -> int:
        with self._lock:
            return len(self._all)

    def invoke(self, event: dict[str, Any], *, request_id: str | None = None, wait_s: float | None = None,
               trace_id: str | None = None) -> InvokeResult:
        """Run the function on a warm worker, blocking this thread (delivery, authorizers, `stagewise invoke`).
        `trace_id`: the caller's trace header; Lambda's function segment is written around the call."""
        span = self.tracer.begin(trace_id)
        result = self._invoke(event, request_id, wait_s, span.worker_header)
        self._end_span(span, result)
        return result

    def _invoke(self, event: dict[str, Any], request_id: str | None, wait_s: float | None,
                trace: str) -> InvokeResult:
        call = self._call(event, request_id, wait_s, trace)
        if self._would_wait_for_template():
            self.template.wait(TEMPLATE_WAIT_S)  # type: ignore[union-attr]
        worker = self._acquire()
        init_ms = None
        if not worker.ready:
            failed = self._init(worker, call.request_id)
            if failed is not None:
                return failed
            init_ms = worker.init_ms
        started = time.perf_counter()
        try:
            reply = worker.call(call.message, time.monotonic() + call.timeout_s)
        except (FrameTimeout, WorkerGone, OSError) as exc:
            return self._failed(worker, call, exc, init_ms)
        if self._over_memory(reply):
            return self._out_of_memory(worker, call, reply, init_ms)
        return self._finished(worker, call, reply, started, init_ms)

    async def invoke_async(self, event: dict[str, Any], *, request_id: str | None = None,
                           wait_s: float | None = None, trace_id: str | None = None) -> InvokeResult:
        """`invoke` on the caller's event loop: the worker's answer is read by the loop, no thread waits
        for it. What may block (a cold start's init, a failed worker's clean-up) runs in the executor."""
        span = self.tracer.begin(trace_id)
        result = await self._invoke_async(event, request_id, wait_s, span.worker_header)
        self._end_span(span, result)
        return result

    async def _invoke_async(self, event: dict[str, Any], request_id: str | None, wait_s: float | None,
                            trace: str) -> InvokeResult:
        loop = asyncio.get_running_loop()
        call = self._call(event, request_id, wait_s, trace)
        if self._would_wait_for_template():
            await loop.run_in_executor(None, self.template.wait, TEMPLATE_WAIT_S)  # type: ignore[union-attr]
        worker = await self._acquire_async(loop)
        init_ms = None
        if not worker.ready:
            failed = await loop.run_in_executor(None, self._init, worker, call.request_id)
            if failed is not None:
                return failed
            init_ms = worker.init_ms
        started = time.perf_counter()
        try:
            reply = await worker.call_async(call.message, call.timeout_s)
        except (FrameTimeout, WorkerGone, OSError) as exc:
            return await loop.run_in_executor(None, self._failed, worker, call, exc, init_ms)
        if self._over_memory(reply):
            return await loop.run_in_executor(None, self._out_of_memory, worker, call, reply, init_ms)
        return self._finished(worker, call, reply, started, init_ms)

    def _end_span(self, span: Any, result: InvokeResult) -> None:
        fault = None if result.ok else (result.error or {}).get("errorType") or result.status.value
        self.tracer.end(span, request_id=result.request_id, init_ms=result.init_ms, fault=fault)

    def _call(self, event: dict[str, Any], request_id: str | None, wait_s: float | None, trace_id: str) -> _Call:
        request_id = request_id or new_request_id()
        timeout_s = min(self.spec.timeout_s, wait_s) if wait_s else self.spec.timeout_s
        self.last_used = time.monotonic()
        message = {"type": "invoke", "event": event, "request_id": request_id, "trace_id": trace_id,
                   "arn": self.spec.arn, "deadline_ms": int(time.time() * 1000 + self.spec.timeout_s * 1000)}
        return _Call(request_id, timeout_s, message)

    def _failed(self, worker: Worker, call: _Call, exc: Exception, init_ms: float | None) -> InvokeResult:
        """A worker that timed out (killed, a fresh one pre-warmed) or died mid-invoke (dropped)."""
        if isinstance(exc, FrameTimeout):
            self._log(f"[{self.spec.name}] {call.request_id} Task timed out after {call.timeout_s:.2f} seconds")
            self._discard(worker, replace=True)
            return InvokeResult(InvokeStatus.TIMEOUT, call.request_id, duration_ms=call.timeout_s * 1000,
                                init_ms=init_ms)
        code = worker.exit_code()
        self._log(f"[{self.spec.name}] {call.request_id} Runtime exited with error: exit status {code}")
        self._discard(worker, replace=False)
        return InvokeResult(InvokeStatus.CRASHED, call.request_id, error={"errorType": "Runtime.ExitError"},
                            init_ms=init_ms)

    def _over_memory(self, reply: dict[str, Any]) -> bool:
        return int(reply.get("max_rss_kb") or 0) > self.spec.memory_mb * 1024

    def _out_of_memory(self, worker: Worker, call: _Call, reply: dict[str, Any], init_ms: float | None) -> InvokeResult:
        """Lambda stops a function whose memory passes its MemorySize: the invocation fails, and the next
        one gets a fresh environment. Locally the worker's peak resident memory (what Lambda reports as
        Max Memory Used) is checked after each invocation: its worker is replaced, the others untouched."""
        used_mb = int(reply["max_rss_kb"]) // 1024
        message = f"Max Memory Used {used_mb} MB is over MemorySize {self.spec.memory_mb} MB"
        self._log(f"[{self.spec.name}] {call.request_id} Runtime exited with error: signal: killed "
                  f"(Runtime.OutOfMemory: {message})")
        self._discard(worker, replace=True)
        return InvokeResult(InvokeStatus.CRASHED, call.request_id, init_ms=init_ms,
                            error={"errorType": "Runtime.OutOfMemory", "errorMessage": message})

    def _finished(self, worker: Worker, call: _Call, reply: dict[str, Any], started: float,
                  init_ms: float | None) -> InvokeResult:
        self._release(worker)
        status = InvokeStatus.OK if reply.get("ok") else InvokeStatus.FUNCTION_ERROR
        duration = (time.perf_counter() - started) * 1000
        return InvokeResult(status, call.request_id, payload=reply.get("payload"), error=reply.get("error"),
                            duration_ms=duration, init_ms=init_ms)

    def _init(self, worker: Worker, request_id: str) -> InvokeResult | None:
        try:
            report = worker.wait_ready(time.monotonic() + INIT_LIMIT_S)
        except (FrameTimeout, WorkerGone, OSError) as exc:
            report = {"ok": False, "error": {"errorType": "Runtime.InitError", "errorMessage": str(exc)}}
        if report.get("ok"):
            self._log(f"[{self.spec.name}] cold start: Init Duration: {worker.init_ms:.1f} ms")
            return None
        error = report.get("error") or {}
        self._log(f"[{self.spec.name}] init failed ({self.spec.handler}): {error.get('errorType')}: "
                  f"{error.get('errorMessage')}")
        self._discard(worker, replace=False)
        return InvokeResult(InvokeStatus.INIT_ERROR, request_id, error=error)

    def _acquire(self) -> Worker:
        waiter = self._take_or_join()
        while not isinstance(waiter, Worker):
            waiter.event.wait(WAIT_RECHECK_S)
            waiter = self._retry(waiter)
        return waiter

    async def _acquire_async(self, loop: asyncio.AbstractEventLoop) -> Worker:
        """An idle or new worker; else wait in line: a released worker goes straight to the oldest
        waiter, thread or request (first come, first served, one wake-up); other changes wake the
        head of the line to look again, and only the head may take what they freed."""
        waiter = self._take_or_join(loop)
        while not isinstance(waiter, Worker):
            timer = loop.call_later(WAIT_RECHECK_S, _resolve, waiter.future)
            try:
                await waiter.future
            except BaseException:  # cancelled: a worker handed over meanwhile goes on to the next in line
                handed = self._leave(waiter)
                if handed is not None:
                    self._release(handed)
                raise
            finally:
                timer.cancel()
            waiter = self._retry(waiter)
        return waiter

    def _take_or_join(self, loop: asyncio.AbstractEventLoop | None = None) -> Worker | _Waiter:
        """An idle or new worker when nobody is waiting, else a place at the end of the line (woken
        on `loop`, or by an event for a thread)."""
        with self._lock:
            if not self._waiters:
                worker = self._take()
                if worker is not None:
                    return worker
            elif self._closed:
                raise self._stopped()
            waiter = _Waiter(loop)
            self._waiters.append(waiter)
            return waiter

    def _retry(self, waiter: _Waiter) -> Worker | _Waiter:
        """After a wake-up or the recheck: the worker handed to `waiter`, or, at the head of the line,
        an idle or new one; else the waiter, its place in line kept (rejoining at the end let requests
        that came later go first)."""
        with self._lock:
            handed, waiter.worker = waiter.worker, None
            if handed is not None:
                return handed
            if self._closed:  # in line until now: only a hand-over or leaving takes a waiter out
                self._leave_line(waiter)
                raise self._stopped()
            worker = self._take() if self._waiters[0] is waiter else None
            if worker is None:
                waiter.rearm()
                return waiter
            self._leave_line(waiter)
            return worker

    def _leave(self, waiter: _Waiter) -> Worker | None:
        """Take a waiter out of the line: the worker handed to it, if one was."""
        with self._lock:
            if waiter.worker is None and waiter in self._waiters:
                self._leave_line(waiter)
            handed, waiter.worker = waiter.worker, None
            return handed

    def _leave_line(self, waiter: _Waiter) -> None:
        """Out of the line; if it was the head, the new head is woken: what woke the old one (room for
        a worker) may be for it too. The caller holds the lock."""
        was_head = self._waiters[0] is waiter
        self._waiters.remove(waiter)
        if was_head and self._waiters:
            self._waiters[0].wake()

    def _would_wait_for_template(self) -> bool:
        """A cold start while the template still preloads: it is worth waiting for it a little, since a
        plain process would spend longer importing the same libraries (`TEMPLATE_WAIT_S`)."""
        return self.template is not None and not self._idle and not self.template.wait(0)

    def _take(self) -> Worker | None:
        """An idle worker, or a new one while under the bound; None: wait. The caller holds the lock."""
        if self._closed:
            raise self._stopped()
        if self._idle:
            return self._idle.pop()
        if not self._warming and len(self._all) < self._max:
            return self._spawn()
        return None

    def _stopped(self) -> WorkerGone:
        return WorkerGone(f"function {self.spec.name} is stopped")

    def _wake(self) -> None:
        """Wake the head of the line to look again (a worker left, one finished warming, the pool
        stopped): only the head may take what that freed, and each waiter that leaves the line wakes
        the next. The caller holds the lock."""
        if self._waiters:
            self._waiters[0].wake()

    def _hand_over(self, worker: Worker) -> None:
        """A released worker: to the oldest waiter, else idle. The caller holds the lock."""
        if self._waiters:
            waiter = self._waiters.popleft()
            waiter.worker = worker
            waiter.wake()
            return
        self._idle.append(worker)

    def _spawn(self) -> Worker:
        """Start a worker; the caller holds the lock."""
        listed = _newest_mtime({str(self.spec.source_dir)})  # a module added at its top changes it
        if self._scope is None or self._scope[0] != listed:
            self._scope = (listed, import_scope_of(self.spec))
        worker = Worker(self.spec, env=self._env, repo_root=self._repo_root, log=self._log,
                        generation=self._generation, template=self.template, function_log=self._function_log,
                        scope=self._scope[1])
        self._all.add(worker)
        self.started += 1
        return worker

    def _release(self, worker: Worker) -> None:
        if self._replaceable(worker):  # off the caller's path: killing a process waits for it
            threading.Thread(target=self._discard, args=(worker,), kwargs={"replace": True}, daemon=True).start()
            return
        with self._lock:
            if worker.generation == self._generation and worker.alive() and not self._closed:
                self._hand_over(worker)
                return
        self._discard(worker, replace=False)

    def _replaceable(self, worker: Worker) -> bool:
        """A plain process started while the template was still preloading, now that it is ready: it is
        replaced by a forked worker (the same code, a fraction of the memory)."""
        return not isinstance(worker.process, ForkedProcess) and self.template is not None and self.template.ready

    def _discard(self, worker: Worker, *, replace: bool) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
            self._wake()
        if replace:
            self.prewarm()

    def prewarm(self, *, wait: bool = False) -> None:
        """Start and initialise a worker (in the background unless `wait`), so the next request finds it warm."""
        with self._lock:
            if self._closed or self._idle or len(self._all) >= self._max:
                return
            worker = self._spawn()
            self._warming += 1
        if wait:
            self._finish_warming(worker)
        else:
            threading.Thread(target=self._finish_warming, args=(worker,), daemon=True).start()

    def _finish_warming(self, worker: Worker) -> None:
        try:
            ok = bool(worker.wait_ready(time.monotonic() + INIT_LIMIT_S).get("ok"))
        except (FrameTimeout, WorkerGone, OSError):
            ok = False
        with self._lock:
            self._warming -= 1
            keep = ok and worker.generation == self._generation and not self._closed
            if keep:
                self._hand_over(worker)  # to the oldest waiter, else idle
            self._wake()
        if not keep:
            self._discard(worker, replace=False)

    def restart_if_uses(self, changed: set[str], *, layer_changed: bool = False) -> bool:
        """Retire this pool's workers if any imported a changed file, or all of them when the template
        they were forked from was restarted (the caller pre-warms)."""
        with self._lock:
            used = self.files & changed
            if not self._all or not (used or layer_changed):
                return False
            if not layer_changed and _newest_mtime(used) < self._generation_began - MTIME_SLACK_S:
                return False  # already loaded (one save can arrive as two batches)
            self._generation += 1
            self._generation_began = time.time()
            stale, self._idle = self._idle, []
        for worker in stale:
            self._discard(worker, replace=False)
        return True

    def call_worker(self, message: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send a non-invoke message (e.g. openapi) to a warm worker; None if it cannot init."""
        worker = self._acquire()
        if not worker.ready and self._init(worker, "openapi") is not None:
            return None
        try:
            reply = worker.call(message, time.monotonic() + timeout_s)
        except (FrameTimeout, WorkerGone, OSError):
            self._discard(worker, replace=False)
            return None
        self._release(worker)
        return reply

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._idle = list(self._all), []
            self._wake()
        for worker in workers:
            worker.kill()
        with self._lock:
            self._all.clear()


def start_template(runtime: str, functions: Mapping[str, FunctionSpec], envs: Mapping[str, dict[str, str]], *,
                   roots: list[Path], log: Log) -> Template:
    """The worker template of `runtime` for those of `functions` that use it, started in the background."""
    keys = [key for key, spec in functions.items() if spec.runtime == runtime]
    template = Template(runtime, envs={key: envs[key] for key in keys},
                        source_dirs=[functions[key].source_dir for key in keys], roots=roots, log=log)
    template.start()
    return template


class WorkerSet:
    """One FunctionPool per function of the model, created on first use; one worker template per
    Lambda runtime the functions use (`templates=False`: every worker a plain process; a mapping:
    templates already started, by runtime, used when the functions' environments fit them)."""

    def __init__(self, functions: dict[str, FunctionSpec], *, base_env: dict[str, str], repo_root: Path,
                 region: str, log: Log, max_workers: int = DEFAULT_MAX_WORKERS,
                 templates: bool | Mapping[str, Template] = True,
                 source_roots: list[Path] | None = None, function_log: FunctionLog | None = None) -> None:
        self._functions = functions
        self._function_log = function_log
        self._base = dict(base_env)
        self._repo_root = repo_root
        self._region = region
        self._log = log
        self._max = max_workers
        self._pools: dict[str, FunctionPool] = {}
        self._lock = threading.Lock()
        self._envs = {lid: worker_environment(spec, base=self._base, region=region) for lid, spec in functions.items()}
        self.templates: dict[str, Template] = {}
        started = dict(templates) if isinstance(templates, Mapping) else {}
        if templates:
            for runtime in sorted({spec.runtime for spec in functions.values()}):
                ids = [lid for lid, spec in functions.items() if spec.runtime == runtime]
                envs = {lid: self._envs[lid] for lid in ids}
                dirs = [functions[lid].source_dir for lid in ids]
                template = started.pop(runtime, None)
                if template is None or not template.fits(envs.values(), dirs):
                    if template is not None:
                        template.stop()
                        log(f"template {runtime}: the deployed functions' variables differ from the rendered "
                            "ones; starting it again")
                    template = start_template(runtime, functions, self._envs, roots=source_roots or [], log=log)
                self.templates[runtime] = template
        for unused in started.values():
            unused.stop()

    @property
    def base_env(self) -> dict[str, str]:
        """The caller's base variables every worker gets (the local cloud's endpoint and credentials)."""
        return dict(self._base)

    def pool(self, logical_id: str) -> FunctionPool:
        with self._lock:
            pool = self._pools.get(logical_id)
            if pool is None:
                spec = self._functions[logical_id]
                pool = FunctionPool(spec, env=self._envs[logical_id], repo_root=self._repo_root, log=self._log,
                                    max_workers=self._max, template=self.templates.get(spec.runtime),
                                    function_log=self._function_log)
                self._pools[logical_id] = pool
            return pool

    def pools(self) -> list[FunctionPool]:
        with self._lock:
            return list(self._pools.values())

    def restart_for(self, changed: set[str]) -> list[str]:
        """Logical ids of the functions whose workers were restarted for these changed files.

        A changed dependency layer (a function folder's requirements file) restarts the template of
        its runtime and every worker forked from it. Fresh workers are pre-warmed one at a time, most
        recently used function first: a change to shared code restarts many functions, and warming
        them all at once on two cores would make the one being worked on wait for all of them.
        """
        _drop_bytecode({path for path in changed if path.endswith(".py")})
        stale = self._stale_templates(changed)
        for template in stale:
            template.restart()
        restarted = [pool for pool in self.pools()
                     if pool.restart_if_uses(changed, layer_changed=pool.template in stale)]
        restarted.sort(key=lambda pool: pool.last_used, reverse=True)

        def prewarm_in_order() -> None:
            for pool in restarted:
                pool.prewarm(wait=True)

        if restarted:
            threading.Thread(target=prewarm_in_order, name="reload-prewarm", daemon=True).start()
        return [pool.spec.logical_id for pool in restarted]

    def _stale_templates(self, changed: set[str]) -> list[Template]:
        """The templates whose functions' dependency layers are among the changed files."""
        return [template for template in self.templates.values() if changed & template.layer_files]

    def layer_files(self) -> set[str]:
        """The dependency layers' files (requirements) of the functions with a template: hot reload watches them."""
        return {path for template in self.templates.values() for path in template.layer_files}

    def stop(self) -> None:
        for pool in self.pools():
            pool.stop()
        for template in self.templates.values():
            template.stop()
