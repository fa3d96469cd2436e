"""Local stand-ins: the app's own programs that stand in for a third-party API on local stages.

An app declares one per API in stagewise.toml (`[local.standins.<name>]`, docs/config.md):

    module        run as `python -m <module> --fd N --state-dir D` from the project root
    secret        the stand-in runs when a service of the stage declares this secret
    secret_value  what a local stage's secret is set to when it has none (optional)
    url_variable  the functions that read the secret get the stand-in's base URL in this variable

Data flow: `LocalStandin(name, settings, state_dir=..., root=...).launch()` opens the listening
socket on 127.0.0.1, hands it to the child (`--fd`) and returns the base URL at once: a caller
that comes before the child serves waits in the socket's backlog. With `on_first_connection=True`
(what `dev` uses) the child starts only when the first caller connects. The child prints one line
with "listening on " once it serves; `wait_ready()` waits for it (`start()` = launch + wait).
`stop()` ends the child; so does the launcher's death, even by SIGKILL (stagewise/standin_main.py).
A function "reads the secret" when its environment names the secret's SSM parameter
(`/<app>/<stage>/<SECRET>`, the way stagewise's secrets are read: by name, at run time); `with_urls`
gives those functions, and no other, `url_variable` = the stand-in's URL.

The state dir (`standin_dir`) lives in the local cloud's state dir, so a stand-in's objects
survive restarts and `stagewise cloud reset` wipes them with the rest.
"""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from stagewise.cloud.layout import STANDINS_DIR
from stagewise.config import Project, StandinSettings
from stagewise.errors import UserError
from stagewise.net import loopback_listener
from stagewise.runtime.model import FunctionSpec

HOST = "127.0.0.1"
READY_MARK = "listening on "  # the child's first stdout line holds it once it serves
START_TIMEOUT_SECONDS = 15.0
ACTIVATION_POLL_SECONDS = 0.2  # how often a socket waiting for its first client checks for stop()


def standin_dir(cloud_state_dir: Path, name: str) -> Path:
    """Where stand-in `name` keeps its objects, inside a local cloud's state dir."""
    return cloud_state_dir / STANDINS_DIR / name


def standins_for(project: Project, secrets: Iterable[str]) -> dict[str, StandinSettings]:
    """The declared stand-ins whose secret is among `secrets` (those the stage's services declare)."""
    wanted = set(secrets)
    return {name: settings for name, settings in project.standins.items() if settings.secret in wanted}


def local_secret_values(project: Project) -> dict[str, str]:
    """Secret name → the test value a local stage gets when it has none (useless beyond its stand-in)."""
    return {s.secret: s.secret_value for s in project.standins.values() if s.secret_value is not None}


def reads_secret(spec: FunctionSpec, secret: str) -> bool:
    """Whether the function's environment names `secret`'s SSM parameter (its own stage's or a fallback's)."""
    return any(isinstance(value, str) and value.startswith("/") and value.endswith(f"/{secret}")
               for value in spec.environment.values())


def with_urls(functions: dict[str, FunctionSpec], standins: Iterable[LocalStandin]) -> dict[str, FunctionSpec]:
    """The functions, those that read a stand-in's secret with its base URL in their environment (at
    run time only: a template never holds it)."""
    changed = dict(functions)
    for standin in standins:
        variable, url = standin.settings.url_variable, standin.base_url
        if url is None:
            raise UserError(f"local stand-in {standin.name} is not launched; call launch() first")
        changed = {key: replace(spec, environment={**spec.environment, variable: url})
                   if reads_secret(spec, standin.settings.secret) else spec for key, spec in changed.items()}
    return changed


class LocalStandin:
    """A stand-in's child process on 127.0.0.1, started from the project root, its state in `state_dir`."""

    def __init__(self, name: str, settings: StandinSettings, *, state_dir: Path | str, root: Path | str,
                 port: int = 0) -> None:
        self.name = name
        self.settings = settings
        self.state_dir = Path(state_dir).resolve()  # the child runs in `root`: a relative path would move
        self.root = Path(root)
        self.port = port
        self.base_url: str | None = None
        self._process: subprocess.Popen[str] | None = None
        self._ready = False
        self._listener: socket.socket | None = None  # held until the child takes it over
        self._spawned = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        """Whether the child process has been started (launch, or the first connection)."""
        return self._spawned.is_set()

    def start(self) -> str:
        """Start the child and return its base URL (e.g. http://127.0.0.1:41234) once it serves."""
        self.launch()
        return self.wait_ready()

    def launch(self, *, on_first_connection: bool = False) -> str:
        """Open the listening socket, hand it to the child, and return the base URL at once.

        A client that connects while the child is still starting (its imports) waits in the
        socket's backlog and is served, rather than refused. With `on_first_connection` the child
        is started only when the first client connects (socket activation): `dev` does not spend
        the child's start-up CPU while everything else starts, and a session that never calls the
        API never pays it.
        """
        with self._lock:
            if self.base_url is not None:
                return self.base_url
            self._check_module()
            try:
                self._listener = loopback_listener(self.port)
            except OSError as exc:
                raise UserError(f"local stand-in {self.name} cannot listen on {HOST}:{self.port} "
                                f"({exc.strerror}); pick another port") from exc
            self.base_url = f"http://{HOST}:{self._listener.getsockname()[1]}"
            if not on_first_connection:
                self._spawn()
                return self.base_url
        threading.Thread(target=self._spawn_on_first_connection, name=f"standin-{self.name}-activation",
                         daemon=True).start()
        return self.base_url

    def _check_module(self) -> None:
        """Fail before any socket opens if `python -m <module>` cannot find the module under the root."""
        path = self.root.joinpath(*self.settings.module.split("."))
        if not (path.with_suffix(".py").is_file() or (path / "__main__.py").is_file()):
            raise UserError(
                f"local stand-in {self.name}: module '{self.settings.module}' is not under {self.root} (neither "
                f"{path.with_suffix('.py')} nor {path / '__main__.py'}); fix [local.standins.{self.name}] module "
                "in stagewise.toml, it is run as python -m <module> from there")

    def _spawn(self) -> None:
        """Start the child on the listening socket (the caller holds the lock)."""
        listener, self._listener = self._listener, None
        if listener is None:
            return
        with listener:
            command = [sys.executable, "-m", "stagewise.standin_main", self.settings.module,
                       "--fd", str(listener.fileno()), "--state-dir", str(self.state_dir)]
            # `-m` imports from the working directory: the module is the app's, found from its root.
            # stdin: a pipe only we hold; the child ends when it closes, even if we die (standin_main)
            self._process = subprocess.Popen(command, cwd=self.root, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, text=True, pass_fds=(listener.fileno(),))
        self._spawned.set()

    def _spawn_on_first_connection(self) -> None:
        while not self._stopped.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                readable, _, _ = select.select([listener], [], [], ACTIVATION_POLL_SECONDS)
            except (OSError, ValueError):  # closed by stop()
                return
            if readable:
                with self._lock:
                    if not self._stopped.is_set():
                        self._spawn()
                return

    def wait_ready(self) -> str:
        """Wait until the child serves (once something started it); its base URL, or a UserError."""
        if self.base_url is None:
            raise UserError(f"local stand-in {self.name} is not launched; call launch() first")
        while not self._spawned.wait(ACTIVATION_POLL_SECONDS):
            if self._stopped.is_set():
                raise UserError(f"local stand-in {self.name} was stopped before it started")
        process = self._process
        if not self._ready and process is not None:
            line = _read_line(process, START_TIMEOUT_SECONDS)
            if READY_MARK not in line:
                self.stop()
                raise UserError(f"local stand-in {self.name} ({self.settings.module}) did not start on "
                                f"{self.base_url} (it printed {line!r})")
            self._ready = True
        return self.base_url

    def stop(self) -> None:
        """Stop the child (SIGTERM, then SIGKILL after 5 s) or close the unused socket. Safe to call twice."""
        with self._lock:
            self._stopped.set()
            process, self._process = self._process, None
            listener, self._listener = self._listener, None
            self._ready = False
        if listener is not None:
            _close_listener(listener)
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe:
                pipe.close()

    def __enter__(self) -> LocalStandin:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _close_listener(listener: socket.socket) -> None:
    """Stop accepting at once: a plain close() while the activation thread is in select() leaves the
    socket listening until select() returns, and a client connecting then is reset, not refused."""
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    listener.close()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The child's first stdout line, or "" if it printed nothing in time (or died)."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline() if process.stdout else ""))
    reader.daemon = True
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""
