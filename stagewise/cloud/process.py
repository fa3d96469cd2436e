"""`LocalCloud`: start, stop, inspect and reset the local cloud server process of one state dir.

Data flow: `start()` launches `python -m stagewise.cloud.server` detached (own
session), with its output in `<state dir>/cloud.log` and its pid in
`<state dir>/cloud.pid`, then polls `GET /_stagewise/health` until the server has
replayed its journal and listens. `status()` asks the same endpoint, so it reports
what the running server says (pid, journal size), not what a stale pidfile claims.
`stop()` sends SIGTERM (SIGKILL after a grace period); `reset()` stops, wipes the
state files, and starts again if it was running.
"""

from __future__ import annotations

import enum
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from stagewise.cloud.journal import count_entries
from stagewise.cloud.layout import HEALTH_PATH, JOURNAL_FILE, LOG_FILE, PID_FILE, PORT_FILE, STATE_FILES
from stagewise.errors import UserError
from stagewise.fileio import leftover_temp_files

DEFAULT_PORT = 4566
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
READY_POLL_S = 0.01  # dev waits on this poll when the cloud boots slower than dev itself: keep it short


class CloudState(enum.Enum):
    RUNNING = "running"
    STARTING = "starting"  # the process exists and is still replaying its journal
    STOPPED = "stopped"


@dataclass(frozen=True)
class CloudStatus:
    state: CloudState
    pid: int | None
    endpoint: str
    journal_entries: int
    state_dir: Path

    @property
    def running(self) -> bool:
        return self.state is CloudState.RUNNING


@dataclass(frozen=True)
class _Health:
    pid: int
    state_dir: Path
    journal_entries: int


class LocalCloud:
    """The local cloud of one state dir, served on 127.0.0.1:`port`.

    Without a port it uses the port this state dir was last started on (recorded in
    `cloud.port`), else 4566, so every command finds a cloud started with `--port`.
    """

    def __init__(self, state_dir: Path, port: int | None = None) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.port = port if port is not None else self._recorded_port()
        self._process: subprocess.Popen[bytes] | None = None

    def _recorded_port(self) -> int:
        try:
            return int((self.state_dir / PORT_FILE).read_text().strip())
        except (OSError, ValueError):
            return DEFAULT_PORT

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / PID_FILE

    @property
    def log_file(self) -> Path:
        return self.state_dir / LOG_FILE

    # -- queries ------------------------------------------------------------------------

    def status(self) -> CloudStatus:
        health = self._health()
        if health is not None and health.state_dir == self.state_dir:
            return CloudStatus(CloudState.RUNNING, health.pid, self.endpoint, health.journal_entries, self.state_dir)
        journal = count_entries(self.state_dir / JOURNAL_FILE)
        pid = self._pid_from_file()
        state = CloudState.STARTING if pid is not None else CloudState.STOPPED
        return CloudStatus(state, pid, self.endpoint, journal, self.state_dir)

    def _health(self, timeout: float = 1.0) -> _Health | None:
        try:
            with urllib.request.urlopen(self.endpoint + HEALTH_PATH, timeout=timeout) as answer:
                body = json.loads(answer.read())
        except (OSError, ValueError):
            return None
        if not isinstance(body, dict) or not body.get("ok"):
            return None
        return _Health(int(body["pid"]), Path(body["state_dir"]), int(body["journal_entries"]))

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, wait: bool = True, *, tied: bool = False) -> CloudStatus:
        """Start the server (or return at once if it already serves this state dir). `tied`: it stops
        when this process is gone, even killed outright (stagewise/lifeline.py), as `dev` wants of
        the cloud it starts for itself; untied, it runs until `stop()` (`stagewise cloud start`)."""
        current = self.status()
        if current.running:
            return current
        if current.state is CloudState.STARTING:
            return self._wait_healthy() if wait else current
        self._refuse_busy_port()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            command = [sys.executable, "-m", "stagewise.cloud.server", "--port", str(self.port),
                       "--state-dir", str(self.state_dir)] + (["--tied"] if tied else [])
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE if tied else subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
            )
        self.pid_file.write_text(f"{self._process.pid}\n")
        (self.state_dir / PORT_FILE).write_text(f"{self.port}\n")
        if wait:
            return self._wait_healthy()
        return self.status()

    def ensure_running(self) -> bool:
        """Start the server if it is not running; True if this call started it."""
        started = self.begin()
        self.wait_ready()
        return started

    def begin(self, *, tied: bool = False) -> bool:
        """Launch the server without waiting for it (the caller overlaps its own start-up work);
        True if this call launched it. Follow with `wait_ready()`. `tied` as for `start()`."""
        if self.status().state is not CloudState.STOPPED:
            return False
        self.start(wait=False, tied=tied)
        return True

    def wait_ready(self) -> CloudStatus:
        """Wait until the server of this state dir answers (it replays its state first)."""
        return self._wait_healthy()

    def stop(self) -> bool:
        """Stop the server of this state dir; True if one was running."""
        pid = self._running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal(pid, signal.SIGTERM)
        if not self._wait_exit(pid, STOP_TIMEOUT):
            _signal(pid, signal.SIGKILL)
            self._wait_exit(pid, STOP_TIMEOUT)
        self.pid_file.unlink(missing_ok=True)
        if self._process is not None and self._process.stdin is not None:
            self._process.stdin.close()  # a tied server's pipe: it has stopped
        return True

    def reset(self) -> None:
        """Wipe everything the local cloud holds; a running server is restarted empty."""
        was_running = self.stop()
        for name in STATE_FILES:
            path = self.state_dir / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
            for temp in leftover_temp_files(path):  # a snapshot interrupted by kill -9
                temp.unlink(missing_ok=True)
        if self.state_dir.is_dir() and not any(self.state_dir.iterdir()):
            self.state_dir.rmdir()
        if was_running:
            self.start()

    # -- helpers ------------------------------------------------------------------------

    def _running_pid(self) -> int | None:
        health = self._health()
        if health is not None and health.state_dir == self.state_dir:
            return health.pid
        return self._pid_from_file()

    def _pid_from_file(self) -> int | None:
        """The pidfile's pid if that process is alive and is this state dir's server."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) and _is_our_server(pid, self.state_dir) else None

    def _refuse_busy_port(self) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            busy = probe.connect_ex(("127.0.0.1", self.port)) == 0
        if busy:
            other = self._health()
            what = f"a local cloud for {other.state_dir}" if other else "another program"
            raise UserError(
                f"port {self.port} is in use by {what}; pass --port <free port> or stop it first",
                exit_code=3,
            )

    def _wait_healthy(self) -> CloudStatus:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            status = self.status()
            if status.running:
                return status
            if self._process is not None and self._process.poll() is not None:
                raise UserError(
                    f"the local cloud exited during start (code {self._process.returncode}); "
                    f"see {self.log_file}:\n{_tail(self.log_file)}"
                )
            time.sleep(READY_POLL_S)
        raise UserError(f"the local cloud did not become ready within {START_TIMEOUT:.0f} s; see {self.log_file}")

    def _wait_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.pid == pid:
                try:
                    self._process.wait(timeout=0.05)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not _alive(pid):
                return True
            time.sleep(0.05)
        return False


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _alive(pid: int) -> bool:
    """True for a live process (on Linux a zombie awaiting its parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_our_server(pid: int, state_dir: Path) -> bool:
    """Whether `pid` runs the local cloud server of `state_dir` (guards against a reused pid)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        found = subprocess.run(["ps", "-p", str(pid), "-o", "command="], capture_output=True, text=True, check=False)
        command = found.stdout
    return "stagewise.cloud.server" in command and str(state_dir) in command


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
