"""The process that hosts one Lambda function: `python -m stagewise.runtime.worker_main`.

Data flow: forked by the worker template (`template_main.py`), or started as a plain process by
`workers.Worker` when no template runs, with the function's environment only; reads
frames from fd `--in`, writes frames to fd `--out` (see protocol.py). On start it does
Lambda's init phase (imports the handler with the service folder and the repo root
first on sys.path, cwd = the service folder, and only what Lambda would let the function
import: `import_scope.py`) and reports `init`; then, per `invoke`
frame, calls `handler(event, context)` and answers `result` (the JSON payload, or
Lambda's error shape) plus the source files imported since the last report, so hot
reload knows which workers a saved file concerns. fds 1 and 2 are the runtime's log
pipe: whatever the handler prints goes to the dev console, never into the protocol.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from typing import Any

from stagewise.runtime import import_scope
from stagewise.runtime.import_scope import Scope
from stagewise.runtime.protocol import WorkerGone, encode, read_frame, write_all, write_frame


class LambdaContext:
    """The `context` object Lambda's Python runtime passes to a handler."""

    def __init__(self, *, request_id: str, deadline_ms: int, invoked_arn: str) -> None:
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class ModuleTracker:
    """Reports source files of newly imported modules (each file once per process)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._skip = tuple({sys.prefix, sys.base_prefix, sys.exec_prefix})
        self._scanned = -1  # len(sys.modules) at the last scan

    def new_files(self) -> list[str]:
        # Imports add to sys.modules: an unchanged count means nothing new to report, and skipping
        # the scan of ~600 modules saves ~0.15 ms on every warm invocation. (A handler that drops
        # a module for each one it imports would hide files from hot reload; none of ours does.)
        if len(sys.modules) == self._scanned:
            return []
        self._scanned = len(sys.modules)
        files = []
        for module in list(sys.modules.values()):
            path = getattr(module, "__file__", None)
            if path and path not in self._seen:
                self._seen.add(path)
                if not path.startswith(self._skip):
                    files.append(os.path.realpath(path))
        return files


def error_payload(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    """Lambda's error shape for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": error_type or type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def load_handler(spec: str) -> Any:
    module_name, _, attr = spec.rpartition(".")
    if not module_name:
        raise ImportError(f"handler '{spec}' is not 'module.function'")
    return getattr(importlib.import_module(module_name), attr)


def invoke(handler: Any, message: dict[str, Any]) -> dict[str, Any]:
    request_id = message["request_id"]
    os.environ["_X_AMZN_TRACE_ID"] = message.get("trace_id") or ""
    context = LambdaContext(request_id=request_id, deadline_ms=message["deadline_ms"], invoked_arn=message["arn"])
    try:
        payload = handler(message["event"], context)
    except Exception as exc:  # noqa: BLE001 - every handler failure is reported, as Lambda does
        print(f"[ERROR] {type(exc).__name__}: {exc}{import_scope.hint(exc)}\n{traceback.format_exc()}",
              file=sys.stderr, flush=True)
        return {"type": "result", "ok": False, "error": error_payload(exc), "max_rss_kb": peak_rss_kb()}
    return {"type": "result", "ok": True, "payload": payload, "max_rss_kb": peak_rss_kb()}


def encoded(reply: dict[str, Any]) -> bytes:
    """The reply's frame, its payload serialized once: a payload JSON cannot carry fails the invocation,
    as Lambda's runtime fails it (Runtime.MarshalError)."""
    try:
        return encode(reply)
    except (TypeError, ValueError) as exc:
        return encode({"type": "result", "ok": False, "error": error_payload(exc, "Runtime.MarshalError"),
                       "max_rss_kb": reply.get("max_rss_kb"), "modules": reply.get("modules", [])})


_status: list[int] = []  # /proc/self/status, opened by the worker itself (never inherited from a template)


def peak_rss_kb() -> int:
    """The worker's peak resident memory (VmHWM: Lambda's "Max Memory Used"), in KiB, 0 if unknown; ~8 µs.

    Not getrusage's ru_maxrss: that keeps the high-water mark of what the process was before its exec
    (a template started from a big process would make every worker look as big)."""
    try:
        if not _status:
            _status.append(os.open("/proc/self/status", os.O_RDONLY))
        data = os.pread(_status[0], 8192, 0)
        start = data.index(b"VmHWM:")
        return int(data[start + 6:data.index(b"kB", start)])
    except (OSError, ValueError):
        return 0


def openapi(handler: Any) -> dict[str, Any]:
    app = getattr(sys.modules.get(handler.__module__), "app", None)
    schema_of = getattr(app, "get_openapi_json_schema", None)
    if schema_of is None:
        return {"type": "openapi", "schema": None}
    try:
        return {"type": "openapi", "schema": json.loads(schema_of())}
    except Exception as exc:  # noqa: BLE001 - a broken schema must not kill the worker
        return {"type": "openapi", "schema": None, "error": str(exc)}


def serve(handler: Any, fd_in: int, fd_out: int, tracker: ModuleTracker) -> None:
    while True:
        try:
            message = read_frame(fd_in)
        except WorkerGone:
            return
        if message["type"] == "invoke":
            reply = invoke(handler, message)
        else:
            reply = openapi(handler)
        sys.stdout.flush()
        reply["modules"] = tracker.new_files()
        write_all(fd_out, encoded(reply))


def run(handler_spec: str, source: str, root: str, fd_in: int, fd_out: int, scope: Scope) -> None:
    """Lambda's init phase (import the handler from the function's folder, within what Lambda would let
    it import: `import_scope.py`), then serve invocations."""
    sys.path[:] = [source, root, *[p for p in sys.path[1:] if p not in (source, root)]]
    os.chdir(source)
    import_scope.enter(scope)
    sys.stdout.reconfigure(line_buffering=True)
    tracker = ModuleTracker()
    started = time.perf_counter()
    try:
        handler = load_handler(handler_spec)
    except BaseException as exc:  # noqa: BLE001 - Lambda reports any init failure, even SystemExit
        print(f"[ERROR] init failed: {type(exc).__name__}: {exc}{import_scope.hint(exc)}\n{traceback.format_exc()}",
              file=sys.stderr, flush=True)
        write_frame(fd_out, {"type": "init", "ok": False, "error": error_payload(exc, "Runtime.ImportModuleError"),
                             "modules": tracker.new_files()})
        return
    init_ms = (time.perf_counter() - started) * 1000
    write_frame(fd_out, {"type": "init", "ok": True, "init_ms": init_ms, "modules": tracker.new_files()})
    serve(handler, fd_in, fd_out, tracker)


def main(argv: list[str] | None = None) -> None:
    """A worker started as a plain process (the fallback when no template runs)."""
    parser = argparse.ArgumentParser()
    for name in ("--in", "--out"):
        parser.add_argument(name, type=int, required=True)
    for name in ("--handler", "--source", "--root"):
        parser.add_argument(name, required=True)
    parser.add_argument("--scope", type=json.loads, required=True, help="import_scope.Scope, as JSON")
    args = parser.parse_args(argv)
    run(args.handler, args.source, args.root, args.__dict__["in"], args.out, Scope.from_json(args.scope))


if __name__ == "__main__":
    main()
