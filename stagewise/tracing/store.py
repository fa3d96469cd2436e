"""Recent traces of the local stages, durable (SQLite in the local cloud's state dir) and bounded.

Data flow: the daemon's writer thread → `add(documents, stage=...)` (one transaction per batch; a
segment sent again, e.g. in progress then finished, replaces the earlier one) → `summaries(...)` /
`documents(trace_id)` for `stagewise traces` and the dev page. At most `max_traces` traces are kept:
the oldest go first. Readers open the file read-only and need no running dev.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from stagewise import fastjson

MAX_TRACES = 2000
PRUNE_EVERY_S = 1.0  # the bound may be passed by a second's worth of traces, never more
# a trace's start is its earliest segment's (a document without one leaves it as it was)
_UPSERT_TRACE = ("INSERT INTO traces (trace_id, stage, first_seen, start, fault) VALUES (?, ?, ?, ?, ?) "
                 "ON CONFLICT (trace_id) DO UPDATE SET start = min(coalesce(start, excluded.start), "
                 "coalesce(excluded.start, start)), fault = max(fault, excluded.fault)")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS traces (trace_id TEXT PRIMARY KEY, stage TEXT NOT NULL, first_seen REAL NOT NULL,
                                   start REAL, fault INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS traces_by_start ON traces (stage, start);
CREATE TABLE IF NOT EXISTS segments (trace_id TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL,
                                     PRIMARY KEY (trace_id, id));
"""


class TraceStore:
    def __init__(self, path: Path, *, max_traces: int = MAX_TRACES, prune_every_s: float = PRUNE_EVERY_S) -> None:
        self.path = Path(path)
        self.max_traces = max_traces
        self.prune_every_s = prune_every_s
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pruned_at = 0.0

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
            db.execute("PRAGMA journal_mode=WAL")  # readers (the CLI) never block the daemon's writes
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    def add(self, documents: list[dict[str, Any]], *, stage: str) -> int:
        """Store segment documents (each has `trace_id` and `id`); returns how many were stored.

        One statement per table for the batch (a trace's row once, however many of its segments came),
        and the oldest traces pruned at most once a second: the daemon's writer keeps up with thousands
        of segments a second without taking a core."""
        now = time.time()
        traces: dict[str, tuple[float | None, int]] = {}
        segments = []
        for doc in documents:
            trace_id, start = doc["trace_id"], doc.get("start_time")
            fault = int(bool(doc.get("fault") or doc.get("error")))
            earlier, faulted = traces.get(trace_id, (None, 0))
            starts = [t for t in (earlier, start) if isinstance(t, int | float)]
            traces[trace_id] = (min(starts) if starts else None, max(faulted, fault))
            segments.append((trace_id, doc["id"], fastjson.dumps(doc).decode()))
        with self._lock:
            db = self._connection()
            with db:
                db.executemany(_UPSERT_TRACE, [(t, stage, now, start, fault) for t, (start, fault) in traces.items()])
                db.executemany("INSERT OR REPLACE INTO segments (trace_id, id, doc) VALUES (?, ?, ?)", segments)
                if now - self._pruned_at >= self.prune_every_s:
                    self._prune(db)
                    self._pruned_at = now
        return len(documents)

    def _prune(self, db: sqlite3.Connection) -> None:
        old = "SELECT trace_id FROM traces ORDER BY first_seen DESC LIMIT -1 OFFSET ?"
        db.execute(f"DELETE FROM segments WHERE trace_id IN ({old})", (self.max_traces,))
        db.execute(f"DELETE FROM traces WHERE trace_id IN ({old})", (self.max_traces,))

    def trace_ids(self, *, stage: str, since: float | None = None, last: int = 20, errors: bool = False) -> list[str]:
        """The newest first."""
        if not self.path.exists():
            return []
        query = "SELECT trace_id FROM traces WHERE stage = ? AND start >= ?"
        query += " AND fault = 1" if errors else ""
        query += " ORDER BY start DESC LIMIT ?"
        with self._lock:
            rows = self._connection().execute(query, (stage, since or 0.0, last)).fetchall()
        return [row[0] for row in rows]

    def documents(self, trace_id: str) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._lock:
            rows = self._connection().execute("SELECT doc FROM segments WHERE trace_id = ?", (trace_id,)).fetchall()
        return [fastjson.loads(row[0]) for row in rows]

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
