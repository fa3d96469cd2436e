"""The local cloud's server process: `python -m stagewise.cloud.server --port P --state-dir D`.

Data flow: take the state dir's lock (one server per journal) → build moto's WSGI
app (`DomainDispatcherApplication` of moto's per-service Flask apps, as moto's own server does, but
not in debug mode and with per-request method listing cached: ~0.1 ms of CPU per request) →
wrap it in `DurableApp` → replay the journal in-process → listen on 127.0.0.1:P with the
same HTTP/1.1 front end as the local API (`stagewise.runtime.server`: llhttp on one event loop,
keep-alive; `cloud/wsgi.py` makes each request a WSGI call, on the loop for reads moto answers from
memory, in a pool of THREADS threads for the rest)
until SIGTERM/SIGINT. Startup lines (replay count and time) go to stderr, which the
`LocalCloud` launcher points at `<state dir>/cloud.log`.
"""

from __future__ import annotations

import argparse
import fcntl
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from stagewise.cloud.layout import LOCK_FILE
from stagewise.lifeline import on_launcher_exit
from stagewise.runtime.server.http1 import Limits

THREADS = 32  # long polls hold a thread (not the lock) while they wait
IDLE_TIMEOUT = 120
# S3 takes one object of up to 5 GiB in a PUT; the other limits leave room for presigned URLs and metadata.
LIMITS = Limits(max_target=64 * 1024, max_head=64 * 1024, max_headers=200, max_body=5 * 1024**3)
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (True if it took). By default each new thread that allocates gets an
    arena of its own, up to 8 per core, and each keeps what it freed: with THREADS request threads
    that was ~11 MB of the cloud's memory. The threads run one at a time anyway (the GIL, the moto
    lock), so they gain nothing from arenas of their own. Must run before the threads start."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        return bool(name and ctypes.CDLL(name).mallopt(_M_ARENA_MAX, arenas))
    except AttributeError:  # not glibc: its allocator, its own policy
        return False


def _lock_state_dir(state_dir: Path) -> int:
    state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"another local cloud is already serving {state_dir}", file=sys.stderr)
        sys.exit(3)
    return fd


def backend_app(service: str) -> Any:
    """moto's Flask app for one service, out of the debug mode moto builds it in: in debug, Flask
    re-checks template files and wraps `request.files` in a new class on every request. Exceptions
    still propagate to `DurableApp`, as they did in debug."""
    from moto.moto_server.werkzeug_app import create_backend_app

    app = create_backend_app(service)
    app.debug = False
    app.config["PROPAGATE_EXCEPTIONS"] = True
    return app


def build_app(state_dir: Path) -> Any:
    """The durable moto app for `state_dir`, with its snapshot restored and journal replayed."""
    from moto.core.loaders import moto_root
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from stagewise.cloud import lazy_deps, moto_speedups, shared_models, userpool_keys
    from stagewise.cloud.app import DurableApp
    from stagewise.cloud.journal import JOURNAL_FILE, Journal
    from stagewise.cloud.sealing import Seal

    shared_models.install((moto_root,))  # before any botocore loader: one copy of each model in this process
    lazy_deps.install()
    moto_speedups.install()
    journal = Journal(state_dir / JOURNAL_FILE, Seal.of(state_dir))  # sealed at rest (cloud/sealing.py)
    app = DurableApp(DomainDispatcherApplication(backend_app), journal=journal, state_dir=state_dir)
    # Before the replay: the journal's sign-ins must produce again the very tokens (re-signed with
    # this key) that their callers hold, or a replayed pool would not know them.
    userpool_keys.install(state_dir)  # tokens signed with this install's key, not moto's bundled one
    started = time.perf_counter()
    count = app.replay()
    journal.open()
    print(
        f"restored snapshot at seq {app.snapshot_seq} and replayed {count} journal entries "
        f"in {time.perf_counter() - started:.3f} s",
        file=sys.stderr,
    )
    if journal.count >= app.next_snapshot_at:
        with app.lock:
            app.snapshot()
    return app


def attach_services(app: Any, endpoint: str) -> None:
    """What the app serves beside moto: CloudFormation's API, Cognito identities, the request guard."""
    from stagewise.cloud import userpool_keys
    from stagewise.cloud.cloudformation import CloudFormationApp
    from stagewise.cloud.cognito_identity import CognitoIdentity
    from stagewise.cloud.guard import Guard, moto_key_lookup
    from stagewise.cloud.identities import IdentityKeys, load_key
    from stagewise.cloud.layout import PROVISIONER_DIR

    app.cloudformation = CloudFormationApp(endpoint, checkpoints=app.state_dir / PROVISIONER_DIR, wsgi=app)
    keys = IdentityKeys(load_key(app.state_dir))
    app.cognito_identity = CognitoIdentity(keys, moto_lock=app.lock, states_of=app.cloudformation.stack_states,
                                           signing_key=userpool_keys.signing_key(app.state_dir))
    app.guard = Guard(keys, moto_key=moto_key_lookup(app.lock),
                      iam_for=lambda account: app.cloudformation.client(account, "us-east-1", "iam"))


def serve(app: Any, port: int, *, tied: bool = False) -> None:
    from stagewise.cloud.wsgi import WsgiFrontEnd
    from stagewise.memory import AfterQuiet
    from stagewise.runtime.server import HttpServer, Timeouts

    attach_services(app, f"http://127.0.0.1:{port}")
    try:
        front_end = WsgiFrontEnd(app, at_once=app.answers_at_once)
        server = HttpServer(front_end, port=port, limits=LIMITS, timeouts=Timeouts(idle=IDLE_TIMEOUT), threads=THREADS)
    except OSError as exc:
        print(f"cannot listen on 127.0.0.1:{port}: {exc}", file=sys.stderr)
        sys.exit(4)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.set())
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.set())
    if tied:  # dev's own cloud: a clean stop when dev is gone, even killed outright
        on_launcher_exit(stopping.set)
    quiet = AfterQuiet()  # what a burst of stack operations (and the boot before it) freed goes back
    app.cloudformation.service.on_operation_end = quiet.done
    server.start()
    print(f"local cloud listening on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    try:
        while not stopping.wait(1.0):  # a timed wait: the signal handlers run in this thread
            pass
    finally:
        quiet.cancel()
        server.stop()
        with app.lock:
            app.snapshot()  # a clean stop leaves nothing to replay
        app.journal.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stagewise.cloud.server", description=__doc__)
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--tied", action="store_true",
                        help="stop (cleanly) when stdin closes: the process that started it is gone")
    args = parser.parse_args(argv)
    limit_malloc_arenas()
    state_dir = args.state_dir.resolve()
    _lock_state_dir(state_dir)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("MOTO_PORT", str(args.port))
    os.environ.pop("MOTO_ACCOUNT_ID", None)  # accounts come from each request's credentials
    serve(build_app(state_dir), args.port, tied=args.tied)


if __name__ == "__main__":
    main()
