"""Function log lines: kept per function in local state (rotated), and printed the same way from AWS.

Data flow (local): a worker's stdout/stderr line → `FunctionLogs.write(function, name, line, trace)` →
`<dir>/<logical id>.jsonl` as `{"time", "function", "trace", "line"}` (the trace of the invocation in
flight; a Powertools JSON line's own `xray_trace_id` wins) → rotated at `max_bytes` into `.1`, `.2`
(the oldest dropped) → `read(...)` for `stagewise logs`. `LogLine.pretty()` prints a structured
(JSON) line as `time LEVEL message key=value…` and any other line as is.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MAX_BYTES = 5 * 1024 * 1024
KEEP = 3  # files per function: the current one and two rotated
_SHOWN_ELSEWHERE = {"level", "message", "timestamp", "xray_trace_id", "location"}


def trace_root(value: str | None) -> str | None:
    """`1-…` from a header (`Root=1-…;Parent=…`) or a trace id."""
    if not value:
        return None
    for part in value.split(";"):
        key, _, found = part.strip().partition("=")
        if key == "Root":
            return found
    return value if value.startswith("1-") else None


@dataclass
class LogLine:
    time: float
    function: str
    line: str
    trace: str | None = None

    @property
    def structured(self) -> dict[str, Any] | None:
        if not self.line.startswith("{"):
            return None
        try:
            value = json.loads(self.line)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    @property
    def trace_id(self) -> str | None:
        record = self.structured or {}
        return trace_root(record.get("xray_trace_id")) or trace_root(self.trace)

    def as_dict(self) -> dict[str, Any]:
        return {"time": self.time, "function": self.function, "trace_id": self.trace_id,
                "record": self.structured, "line": self.line}

    def pretty(self) -> str:
        when = datetime.fromtimestamp(self.time, UTC).strftime("%H:%M:%S.%f")[:-3]
        record = self.structured
        if record is None:
            return f"{when} {self.line}"
        extra = " ".join(f"{k}={json.dumps(v) if not isinstance(v, str) else v}" for k, v in record.items()
                         if k not in _SHOWN_ELSEWHERE)
        return f"{when} {str(record.get('level', '')):<7} {record.get('message', '')}  {extra}".rstrip()


def console_text(line: str) -> str:
    """A function's line as the dev console shows it: as is, except that a structured line that
    carries an exception (Powertools `logger.exception`) is followed by its traceback, readable."""
    if not line.startswith("{") or '"exception"' not in line:
        return line  # the common case stays cheap: no JSON parsing per line
    record = LogLine(time=0, function="", line=line).structured or {}
    traceback = record.get("exception")
    if not isinstance(traceback, str):
        return line
    return f"{record.get('level', 'ERROR')} {record.get('message', '')} (request {record.get('function_request_id', '-')})" \
           f"\n{traceback}"


class FunctionLogs:
    """One stage's function logs under `root`."""

    def __init__(self, root: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def _file(self, function: str, generation: int = 0) -> Path:
        return self.root / (f"{function}.jsonl" if generation == 0 else f"{function}.{generation}.jsonl")

    def write(self, function: str, name: str, line: str, trace: str | None) -> None:
        record = json.dumps({"time": time.time(), "function": name, "trace": trace_root(trace), "line": line})
        with self._lock:
            self.root.mkdir(parents=True, exist_ok=True)
            path = self._file(function)
            with open(path, "a", encoding="utf-8") as out:
                out.write(record + "\n")
                size = out.tell()
            if size > self.max_bytes:
                self._rotate(function)

    def _rotate(self, function: str) -> None:
        for generation in range(KEEP - 1, 0, -1):
            older = self._file(function, generation - 1)
            if older.exists():
                os.replace(older, self._file(function, generation))

    def functions(self) -> dict[str, str]:
        """Logical id → function name of every function with logs."""
        found = {}
        for path in sorted(self.root.glob("*.jsonl")):
            if path.stem.count(".") == 0:
                first = next(iter(_records(path)), None)
                found[path.stem] = first.function if first else path.stem
        return found

    def resolve(self, function: str) -> str | None:
        """The logical id of `function` (a logical id or a deployed name), if it has logs."""
        for logical_id, name in self.functions().items():
            if function in (logical_id, name):
                return logical_id
        return None

    def read(self, logical_id: str, *, since: float | None = None, trace: str | None = None) -> list[LogLine]:
        lines = []
        for generation in range(KEEP - 1, -1, -1):
            path = self._file(logical_id, generation)
            if path.exists():
                lines.extend(line for line in _records(path) if _wanted(line, since, trace))
        return lines


def _wanted(line: LogLine, since: float | None, trace: str | None) -> bool:
    return (since is None or line.time >= since) and (trace is None or line.trace_id == trace)


def _records(path: Path) -> Iterator[LogLine]:
    with open(path, encoding="utf-8") as source:
        for text in source:
            try:
                record = json.loads(text)
                yield LogLine(time=record["time"], function=record["function"], line=record["line"],
                              trace=record.get("trace"))
            except (ValueError, KeyError):
                continue  # a line cut by a crash mid-write
