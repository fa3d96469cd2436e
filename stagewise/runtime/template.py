"""The runtime's side of a worker template: start it, ask it to fork workers, restart or give it up.

Data flow: `Template(functions, envs, ...)` starts `template_main` in the background with only the
variables all its functions share (never this process's environment) and the preload inputs: the
functions' requirements files (their layers), the packages the Lambda runtime provides, the source
folders to scan, and the names of the variables that differ between the functions → `fork(...)` waits
for `ready` (at most `READY_LIMIT_S`), sends one `fork` message with the worker's pipe ends over a
Unix socket (SCM_RIGHTS) and returns a `ForkedProcess` → `restart()` (a dependency layer changed)
replaces the template. A template that fails to start, refuses to fork or dies makes `fork` raise
`TemplateUnavailable`; the caller then starts a plain process, and says so once.
"""

from __future__ import annotations

import array
import json
import os
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

READY_LIMIT_S = 10.0


class TemplateUnavailable(Exception):
    """No template can fork this worker: start it as a plain process."""


class ForkedProcess:
    """A worker forked by the template: the `subprocess.Popen` surface the pool uses (pid, poll, wait).

    The template reaps it and writes its exit code on the status pipe; end of file without one means
    the template itself is gone (the code is then unknown: -1)."""

    def __init__(self, pid: int, status_fd: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._status = status_fd
        self._lock = threading.Lock()  # the pool polls from request threads: one reader closes the pipe

    def poll(self) -> int | None:
        return self._reap(0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._reap(timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout or 0)
        return code

    def _reap(self, timeout: float | None) -> int | None:
        with self._lock:
            if self.returncode is None and select.select([self._status], [], [], timeout)[0]:
                data = os.read(self._status, 32)
                self.returncode = int(data) if data.strip() else -1
                os.close(self._status)
            return self.returncode


def shared_environment(envs: Iterable[dict[str, str]]) -> tuple[dict[str, str], set[str]]:
    """(the variables every environment has with the same value, the names of all the others)."""
    envs = list(envs)
    shared = dict(envs[0]) if envs else {}
    for env in envs[1:]:
        shared = {k: v for k, v in shared.items() if env.get(k) == v}
    varying = {k for env in envs for k in env} - set(shared)
    return shared, varying


class Template:
    def __init__(self, runtime: str, *, envs: dict[str, dict[str, str]], source_dirs: Iterable[Path],
                 roots: Iterable[Path], log: Callable[[str], None], candidates: list[str] | None = None) -> None:
        """`candidates`: the modules to preload, instead of those of the functions' layers."""
        self.runtime = runtime
        self._env, varying = shared_environment(envs.values())
        self._config = {"candidates": candidates, "excluded": [], "varying": sorted(varying),
                        "source_dirs": sorted({str(d) for d in source_dirs}), "roots": [str(r) for r in roots]}
        self._log = log
        self._lock = threading.Lock()  # one fork request on the socket at a time
        self._ready = threading.Event()
        self._control: socket.socket | None = None
        self._process: subprocess.Popen | None = None
        self.preloaded: list[str] = []
        self.sdk_services: list[str] = []  # whose botocore models the template read (sdk_data.py)
        self.failure: str | None = None
        self.layer_files: set[str] = set()  # real paths of the functions' requirements files, once started

    def start(self) -> None:
        """Start the template in the background (`fork` waits for it)."""
        threading.Thread(target=self._start, name=f"template-{self.runtime}", daemon=True).start()

    def _start(self) -> None:
        # Imported here, off the start-up path: the build's own names for a layer's input and what
        # the Lambda runtime provides (the layers leave those out).
        from stagewise.build.deps import RUNTIME_PROVIDED
        from stagewise.build.service import REQUIREMENTS

        self._config["requirements"] = [str(Path(d) / REQUIREMENTS) for d in self._config["source_dirs"]]
        self.layer_files = {os.path.realpath(path) for path in self._config["requirements"]}
        self._config["provided"] = sorted(RUNTIME_PROVIDED)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-m", "stagewise.runtime.template_main", "--control", str(theirs.fileno()),
                   "--config", json.dumps(self._config)]
        try:
            self._process = subprocess.Popen(command, env=self._env, pass_fds=(theirs.fileno(),),
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            return self._give_up(f"cannot start ({exc.strerror})", ours, theirs)
        theirs.close()
        if not select.select([ours], [], [], READY_LIMIT_S)[0]:
            return self._give_up(f"not ready within {READY_LIMIT_S:.0f} s", ours)
        report = json.loads(ours.recv(1 << 20) or b'{"ok": false}')
        refused = report.get("refused") or {}
        if not report.get("ok"):
            return self._give_up(report.get("reason", "exited during preload"), ours)
        self.preloaded, self._control = report["preloaded"], ours
        self.sdk_services = report.get("sdk_services") or []
        sdk = f", botocore data of {', '.join(self.sdk_services)}" if self.sdk_services else ""
        self._log(f"template {self.runtime}: preloaded {len(self.preloaded)} modules{sdk} in {report['ms']:.0f} ms"
                  + "".join(f"; not {name} (its import reads {', '.join(keys)})" for name, keys in refused.items()))
        self._ready.set()

    def _give_up(self, reason: str, *sockets: socket.socket) -> None:
        for sock in sockets:
            sock.close()
        self.stop_process()
        self.failure = reason
        self._log(f"warning: worker template {self.runtime} {reason}; starting workers as plain processes")
        self._ready.set()

    def fork(self, request: dict[str, Any], fds: tuple[int, int, int]) -> ForkedProcess:
        """Fork a worker for `request` ({handler, source, root, env}) with its (in, out, log) pipe ends.

        A template still importing does not hold the request up: the worker starts as a plain process
        (the first request of `stagewise dev` would otherwise wait for the whole preload)."""
        if not self._ready.is_set():
            raise TemplateUnavailable("still preloading")
        with self._lock:
            control = self._control
            if control is None:
                raise TemplateUnavailable(self.failure or "not started")
            try:
                control.sendmsg([json.dumps(request).encode()],
                                [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
                message, ancillary, _, _ = control.recvmsg(4096, socket.CMSG_SPACE(4))
            except OSError as exc:
                message, ancillary = b"", []
                self.failure = f"is gone ({exc})"
            reply = json.loads(message) if message else {"type": "error", "message": "the template is gone"}
            if reply["type"] != "forked":
                self._control = None
                control.close()
                self.failure = reply.get("message", "failed")
                self._log(f"warning: worker template {self.runtime} {self.failure}; "
                          "starting workers as plain processes")
                raise TemplateUnavailable(self.failure)
        status = array.array("i")
        for _, _, data in ancillary:
            status.frombytes(data[: len(data) - len(data) % status.itemsize])
        return ForkedProcess(reply["pid"], status[0])

    def restart(self) -> None:
        """A dependency layer changed: a fresh template imports it (workers forked before keep running)."""
        with self._lock:
            self._ready.clear()
            if self._control is not None:
                self._control.close()
                self._control = None
            self.stop_process()
            self.failure = None
        self.start()

    def fits(self, envs: Iterable[dict[str, str]], source_dirs: Iterable[Path]) -> bool:
        """Whether these functions' workers may be forked from this template (one started before their
        environments were known, `early_templates.py`): it preloaded from every one of their layers,
        and each environment has every variable the template has, with its value, and no other
        variable than those the template treated as varying (whose readers it refused to preload)."""
        if not {str(d) for d in source_dirs} <= set(self._config["source_dirs"]):
            return False
        varying = set(self._config["varying"])
        return all(all(env.get(k) == v for k, v in self._env.items())
                   and all(k in self._env or k in varying for k in env) for env in envs)

    def wait(self, timeout_s: float) -> bool:
        """Wait at most `timeout_s` for the preload to end (ready or given up); whether it has."""
        return self._ready.wait(timeout_s)

    @property
    def ready(self) -> bool:
        """Forking now: preloaded, and not given up."""
        return self._ready.is_set() and self._control is not None

    @property
    def pid(self) -> int | None:
        """The template process's id while it runs."""
        process = self._process
        return process.pid if process is not None and process.poll() is None else None

    def stop_process(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def stop(self) -> None:
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None
        self.stop_process()
