"""Live progress of a pipeline run: a Rich table on a terminal, plain lines otherwise.

Data flow: the executor calls `started(planned)`, `event(StackEvent)` (from provider threads)
and `finished(StackOutcome)`; the runner calls `note(text)`. `LiveProgress` keeps one row per
stack (phase, status, elapsed, latest resource event) and redraws it; `LineProgress` prints one
line per call (CI logs); `QuietProgress` prints only notes (for --json). All are thread-safe.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import IO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from stagewise.pipeline.executor import StackOutcome
from stagewise.pipeline.planner import PlannedStack, StagePlan
from stagewise.providers.base import StackEvent


@dataclass
class _Row:
    phase: int
    status: str = "waiting"
    started: float | None = None
    ended: float | None = None
    latest: str = ""

    def elapsed(self) -> str:
        if self.started is None:
            return ""
        return f"{(self.ended or time.monotonic()) - self.started:.1f}s"


class LineProgress:
    """One line per step: what CI logs and pipes get."""

    def __init__(self, out: IO[str] | None = None) -> None:
        self.out = out or sys.stderr
        self.notes: list[str] = []
        self._lock = threading.Lock()

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def begin(self, plan: StagePlan) -> None:
        """Nothing to set up for plain lines."""

    def end(self) -> None:
        """Nothing to tear down for plain lines."""

    def note(self, text: str) -> None:
        self.notes.append(text)
        self._print(f"note: {text}")

    def started(self, planned: PlannedStack) -> None:
        self._print(f"[phase {planned.step.phase + 1}] {planned.step.stack}: {planned.decision.value} ...")

    def event(self, event: StackEvent) -> None:
        reason = f" ({event.reason})" if event.reason else ""
        self._print(f"  {event.stack_name} {event.logical_id} {event.status}{reason}")

    def finished(self, outcome: StackOutcome) -> None:
        reason = f": {outcome.reason}" if outcome.reason else ""
        self._print(f"[phase {outcome.phase + 1}] {outcome.stack}: {outcome.outcome.value} "
                    f"in {outcome.seconds:.1f}s{reason}")


class QuietProgress(LineProgress):
    """For --json: no progress lines; notes (recovery, unlocks) still go to stderr and into the result."""

    def _print(self, text: str) -> None:
        if text.startswith("note: "):
            super()._print(text)


class LiveProgress:
    """A Rich live table, one row per stack."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.rows: dict[str, _Row] = {}
        self.notes: list[str] = []
        self._lock = threading.Lock()
        self._live: Live | None = None

    def begin(self, plan: StagePlan) -> None:
        """Show the table (after the plan was confirmed)."""
        self.rows = {p.step.stack: _Row(p.step.phase) for p in plan.stacks}
        self._live = Live(self._table(), console=self.console, refresh_per_second=8)
        self._live.start()

    def end(self) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.stop()
            self._live = None

    def _table(self) -> Table:
        table = Table(show_header=True, header_style="bold")
        for column in ("phase", "stack", "status", "elapsed", "latest event"):
            table.add_column(column)
        for stack, row in sorted(self.rows.items(), key=lambda kv: (kv[1].phase, kv[0])):
            table.add_row(str(row.phase + 1), stack, row.status, row.elapsed(), row.latest)
        return table

    def _update(self, stack: str, **changes: object) -> None:
        with self._lock:
            row = self.rows.setdefault(stack, _Row(0))
            for key, value in changes.items():
                setattr(row, key, value)
            if self._live is not None:
                self._live.update(self._table())

    def note(self, text: str) -> None:
        self.notes.append(text)
        self.console.print(f"note: {text}")

    def started(self, planned: PlannedStack) -> None:
        self._update(planned.step.stack, status="running", started=time.monotonic())

    def event(self, event: StackEvent) -> None:
        self._update(event.stack_name, latest=f"{event.logical_id} {event.status}")

    def finished(self, outcome: StackOutcome) -> None:
        self._update(outcome.stack, status=outcome.outcome.value, ended=time.monotonic(),
                     latest=outcome.reason or self.rows.get(outcome.stack, _Row(0)).latest)
