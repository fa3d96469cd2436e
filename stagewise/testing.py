"""Helpers for end-to-end tests and benchmarks of an app run by `stagewise dev`.

They never touch the developer's own local cloud or files: `project_copy` copies the
app to a temp folder and points STAGEWISE_PROJECT / STAGEWISE_STATE_DIR there,
`DevProcess` runs `stagewise dev` on free loopback ports and stops every process it
started, `Client` is a keep-alive HTTP client. Your own app's tests can use them too.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

COPY_ITEMS = ["stagewise.toml", "infra", "services", "libs"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def percentile_ms(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))
    return round(ordered[index] * 1000, 2)


@contextmanager
def project_copy(repo: Path):
    """A temp copy of the app at `repo` (not the tool) plus a state dir, exported through the environment."""
    with tempfile.TemporaryDirectory(prefix="stagewise-bench-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        for item in COPY_ITEMS:
            source = repo / item
            if source.is_dir():
                shutil.copytree(source, root / item, ignore=shutil.ignore_patterns("__pycache__", "tests"))
            elif source.exists():
                shutil.copy2(source, root / item)
        state = Path(tmp) / "state"
        saved = {k: os.environ.get(k) for k in ("STAGEWISE_PROJECT", "STAGEWISE_STATE_DIR")}
        os.environ["STAGEWISE_PROJECT"] = str(root)
        os.environ["STAGEWISE_STATE_DIR"] = str(state)
        try:
            yield root, state
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


class DevProcess:
    """`stagewise dev` as a subprocess on free ports."""

    def __init__(self, *, port: int, cloud_port: int, stage: str = "local", extra_args: tuple[str, ...] = ()) -> None:
        self.port, self.cloud_port, self.stage, self.extra_args = port, cloud_port, stage, extra_args
        self.proc: subprocess.Popen | None = None
        # A file, not a pipe: a chatty dev must never block on a full pipe nobody reads.
        self.log_file = tempfile.NamedTemporaryFile(prefix="stagewise-dev-", suffix=".log", delete=False)

    def log(self) -> str:
        return Path(self.log_file.name).read_text(errors="replace")

    def start(self) -> float:
        began = time.perf_counter()
        cmd = [sys.executable, "-m", "stagewise.cli", "dev", "--stage", self.stage,
               "--port", str(self.port), "--cloud-port", str(self.cloud_port), *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)
        return began

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def pids(self) -> list[int]:
        """The dev process and every descendant (workers, the cloud if dev started it)."""
        if not self.proc:
            return []
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return round(total / 1024, 1)


class Client:
    """A keep-alive HTTP client on one connection."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": token} if token else {}

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body) if body is not None else None
        self.conn.request(method, path, body=data, headers={**self.headers, "Content-Type": "application/json"})
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)

    def close(self) -> None:
        self.conn.close()
