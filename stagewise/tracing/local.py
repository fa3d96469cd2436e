"""What a local stage's tracing is: its store, daemon and function logs in the local cloud's state dir.

Data flow: `LocalTracing.for_stage(state_dir, stage)` → `start()` runs the daemon and returns the worker
variables (`AWS_XRAY_DAEMON_ADDRESS`) → the runtime's gateway and workers send segments, its workers'
output goes to `logs.write` → `page(path)` answers /_stagewise/traces[/<id>] from the same store that
`stagewise traces` reads (`recent`, `trace`), with or without a running dev session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stagewise.cloud.layout import TRACES_DIR
from stagewise.errors import UserError
from stagewise.tracing.daemon import DaemonProcess
from stagewise.tracing.emit import DAEMON_ADDRESS
from stagewise.tracing.logs import FunctionLogs
from stagewise.tracing.model import Trace
from stagewise.tracing.store import TraceStore

TRACES_PAGE = "/_stagewise/traces"
STORE_FILE = "traces.sqlite"
LOGS_DIR = "logs"


@dataclass
class LocalTracing:
    stage: str
    store: TraceStore
    logs: FunctionLogs
    daemon: DaemonProcess | None = field(default=None)

    @classmethod
    def for_stage(cls, state_dir: Path, stage: str) -> LocalTracing:
        root = Path(state_dir) / TRACES_DIR
        return cls(stage=stage, store=TraceStore(root / STORE_FILE), logs=FunctionLogs(root / LOGS_DIR / stage))

    def start(self, *, daemon: bool = True) -> dict[str, str]:
        """Run the daemon (unless not `daemon`: nothing is traced, logs are still kept); the variables
        every worker gets."""
        if not daemon:
            return {}
        self.daemon = DaemonProcess(self.store.path, self.stage)  # its errors go to dev's console itself
        return {DAEMON_ADDRESS: self.daemon.address}

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
            self.daemon = None
        self.store.close()

    def recent(self, *, since: float | None = None, last: int = 20, errors: bool = False) -> list[Trace]:
        ids = self.store.trace_ids(stage=self.stage, since=since, last=last, errors=errors)
        return [Trace(trace_id, self.store.documents(trace_id)) for trace_id in ids]

    def trace(self, trace_id: str) -> Trace:
        documents = self.store.documents(trace_id)
        if not documents:
            raise UserError(f"no trace {trace_id} in stage {self.stage}'s local traces; "
                            f"`stagewise traces --stage {self.stage}` lists the recent ones", exit_code=1)
        return Trace(trace_id, documents)

    def page(self, path: str) -> str | None:
        """The HTML of /_stagewise/traces (recent) or /_stagewise/traces/<id>; None for another path."""
        from stagewise.tracing import render

        if path.rstrip("/") == TRACES_PAGE:
            return render.html_summaries(self.recent(last=100))
        if path.startswith(TRACES_PAGE + "/"):
            trace_id = path[len(TRACES_PAGE) + 1:]
            documents = self.store.documents(trace_id)
            return render.html_trace(Trace(trace_id, documents)) if documents else None
        return None
