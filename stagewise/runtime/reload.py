"""Hot reload: a saved source file restarts only the workers that imported it.

Data flow: watchfiles (a Rust notify thread) watches the functions' service folders and
`libs/` → batches of changed `.py` paths (50 ms debounce instead of watchfiles' 1.6 s
default) → `WorkerSet.restart_for(paths)`, which compares them with the files each
function's workers reported importing, retires only those workers and pre-warms a
fresh one, so the next request runs the new code without paying a cold start.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from watchfiles._rust_notify import RustNotify

from stagewise.runtime.workers import WorkerSet

DEBOUNCE_MS = 50
STEP_MS = 20


def watched_roots(source_dirs: Iterable[Path], repo_root: Path) -> list[Path]:
    """The folders worth watching: every function's source folder and libs/, without nesting."""
    candidates = {Path(p).resolve() for p in source_dirs} | {(repo_root / "libs").resolve()}
    existing = sorted(p for p in candidates if p.is_dir())
    return [p for p in existing if not any(p != q and p.is_relative_to(q) for q in existing)]


class Reloader:
    def __init__(self, workers: WorkerSet, roots: list[Path], *, log: Callable[[str], None]) -> None:
        self._workers = workers
        self._roots = roots
        self._log = log
        self._stop = threading.Event()
        self._notify: RustNotify | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Watching has begun when this returns: a save right after is not missed."""
        if not self._roots:
            return
        self._notify = RustNotify([str(p) for p in self._roots], False, False, 300, True, False)
        self._thread = threading.Thread(target=self._run, name="stagewise-reload", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        notify = self._notify
        while notify is not None and not self._stop.is_set():
            raw = notify.watch(DEBOUNCE_MS, STEP_MS, 500, self._stop)
            if raw in ("stop", "signal"):
                return
            if raw == "timeout":
                continue
            layers = self._workers.layer_files()
            changed = {real for _, path in raw
                       if (real := os.path.realpath(path)).endswith(".py") or real in layers}
            if changed:
                self.apply(changed)

    def apply(self, changed: set[str]) -> list[str]:
        started = time.perf_counter()
        restarted = self._workers.restart_for(changed)
        if restarted:
            names = ", ".join(sorted(restarted))
            self._log(f"reload: {len(changed)} file(s) changed → restarted {names} "
                      f"({(time.perf_counter() - started) * 1000:.0f} ms)")
        return restarted

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._notify is not None:
            self._notify.close()
            self._notify = None
