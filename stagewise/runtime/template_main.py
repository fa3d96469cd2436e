"""The worker template process: `python -m stagewise.runtime.template_main --control FD --config JSON`.

Data flow: started by `template.Template` with only the variables every function it serves shares →
imports the preload candidates (`preload.py`), refusing any whose import read a variable that differs
between the functions (then it re-executes itself without them: a clean interpreter, never a half
un-imported module) → `gc.freeze()` (the collector then leaves the shared objects' pages alone, so
forked workers keep sharing them; each layer's import scope, `import_scope.py`, is read before it too)
→ answers `ready` on the control socket → per `fork` message (a JSON request plus the worker's three
pipe ends as SCM_RIGHTS) forks a worker: the child starts its own session, takes the log pipe as fds 1
and 2, replaces the whole environment with the function's, then runs Lambda's init phase within the
function's import scope and serves (`worker_main.run`). The template answers the child's pid and the
read end of a status pipe on which it writes the child's exit code when it reaps it. The template
stays single-threaded (forking a process with threads is unsafe): it checks before every fork. It
exits when the runtime closes the control socket.
"""

from __future__ import annotations

import argparse
import array
import gc
import json
import os
import signal
import socket
import sys
import threading
import time
import traceback
from typing import Any

from stagewise.runtime import import_scope, preload, sdk_data, worker_main

MAX_MESSAGE = 1 << 20
MAX_ROUNDS = 4  # re-executions while refusing modules (each refusal can uncover a later one)
_children: dict[int, int] = {}  # pid → write end of its status pipe


def _preload(config: dict[str, Any]) -> tuple[list[str], dict[str, list[str]]]:
    """Import the candidates; those refused (name → the differing variables its import read)."""
    varying = set(config["varying"]) | {preload.WHOLE_ENVIRONMENT}
    loaded, refused = [], {}
    for name in config["candidates"]:
        if name in config["excluded"]:
            continue
        try:
            reads = preload.import_recording(name)
        except Exception:  # noqa: BLE001 — a module that cannot be imported here is imported by its worker
            continue
        if reads & varying:
            refused[name] = sorted(reads & varying)
        else:
            loaded.append(name)
    return loaded, refused


def _share_sdk_data(config: dict[str, Any], loaded: list[str]) -> list[str]:
    """botocore's data read once for every worker (sdk_data.py), when botocore is preloaded and every
    function has the same HOME (botocore's loader also searches ~/.aws/models)."""
    if "botocore" not in loaded or "HOME" in config["varying"]:
        return []
    try:
        return sdk_data.share_loader(config["sdk_services"])
    except Exception:  # noqa: BLE001 — then each worker reads its own, as without a template
        return []


def _send_sdk_calls_directly(loaded: list[str]) -> None:
    """Workers' botocore calls to the local cloud skip urllib3 (sdk_http.py), when botocore is preloaded
    (imported here, not at the top: it imports botocore, which a template without it must not pay for)."""
    if "botocore" in loaded:
        from stagewise.runtime import sdk_http

        sdk_http.install()


def _reap(signum: int, frame: object) -> None:
    """SIGCHLD: write each exited child's exit code on its status pipe."""
    while _children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = _children.pop(pid, None)
        if fd is not None:
            try:
                os.write(fd, b"%d\n" % os.waitstatus_to_exitcode(status))
            except OSError:
                pass
            os.close(fd)


def _fork(control: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    to_child, from_child, log = fds
    status_r, status_w = os.pipe()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})  # reaped only once registered below
    try:
        pid = os.fork()
        if pid == 0:
            _child(control, request, to_child, from_child, log, status_r, status_w)
        _children[pid] = status_w
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
    for fd in (to_child, from_child, log):
        os.close(fd)
    reply = json.dumps({"type": "forked", "pid": pid}).encode()
    control.sendmsg([reply], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [status_r]))])
    os.close(status_r)


def _child(control: socket.socket, request: dict[str, Any], to_child: int, from_child: int, log: int,
           status_r: int, status_w: int) -> None:
    """The forked worker: never returns into the template's loop."""
    code = 0
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        control.close()
        for fd in (status_r, status_w, *_children.values()):
            os.close(fd)
        _children.clear()
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        # The preloaded objects stay frozen: a full collection in the worker would otherwise write
        # to every one of them and copy the pages it shares with the template and its siblings.
        worker_main.run(request["handler"], request["source"], request["root"], to_child, from_child,
                        import_scope.Scope.from_json(request["scope"]))
    except BaseException:  # noqa: BLE001 — reported on the worker's log; the runtime sees the exit
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve(control: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, _reap)
    while True:
        message, ancillary, _, _ = control.recvmsg(MAX_MESSAGE, socket.CMSG_SPACE(3 * 4))
        if not message:
            return  # the runtime closed its end
        fds = array.array("i")
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
        if threading.active_count() != 1:
            for fd in fds:
                os.close(fd)
            control.send(json.dumps({"type": "error", "message": "the template has threads"}).encode())
            continue
        _fork(control, json.loads(message), list(fds))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--control", type=int, required=True)
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    config = json.loads(args.config)
    began = config.setdefault("began", time.time())  # across re-executions
    if config["candidates"] is None or "sdk_services" not in config:  # once, not again when it re-executes
        found = preload.scan(config["roots"])
        config["sdk_services"] = list(found.services)
        if config["candidates"] is None:
            config["candidates"] = preload.candidates(config["requirements"], config["provided"], found.imports)
    loaded, refused = _preload(config)
    if refused and config.get("round", 0) < MAX_ROUNDS:
        config["excluded"] = sorted({*config["excluded"], *refused})
        config["refused"] = {**config.get("refused", {}), **refused}
        config["round"] = config.get("round", 0) + 1
        os.execv(sys.executable, [sys.executable, "-m", "stagewise.runtime.template_main",
                                  "--control", str(args.control), "--config", json.dumps(config)])
    control = socket.socket(fileno=args.control)
    services = _share_sdk_data(config, loaded)
    _send_sdk_calls_directly(loaded)
    for layer in config["requirements"]:  # each function's import scope, read once: its workers share it
        import_scope.prepare(layer, tuple(config["provided"]))
    gc.collect()
    gc.freeze()
    reason = ("has threads after its preload" if threading.active_count() != 1
              else f"still refused modules after {MAX_ROUNDS} rounds" if refused else None)
    control.send(json.dumps({"type": "ready", "ok": reason is None, "reason": reason, "preloaded": loaded,
                             "sdk_services": services, "refused": {**config.get("refused", {}), **refused},
                             "ms": (time.time() - began) * 1000}).encode())
    if reason is None:
        _serve(control)


if __name__ == "__main__":
    main()
