"""`stagewise dev` figures: start → first authenticated 200, latency, throughput, hot reload, RSS, cold init.

Every call is signed (SigV4, execute-api) with the bench user's identity credentials, as the app's
clients sign them for its AWS_IAM methods: the figures include the gateway's IAM check (and the
client's signing).
"""

from __future__ import annotations

import compileall
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from stagewise.testing import Client, DevProcess, free_port, median_ms, percentile_ms, project_copy, sign

REPO = Path(__file__).resolve().parents[1]

EMAIL = "bench@example.com"


Credentials = dict[str, Any]  # a user's identity credentials (stagewise.auth_local.sign_in)


def _credentials() -> Credentials | None:
    """The bench user's identity credentials on the running local stage, or None while its stacks
    (user pool, identity pool) are not there yet."""
    from stagewise.auth_local import sign_in

    try:
        return sign_in("local", EMAIL)
    except Exception:  # noqa: BLE001 — anything means "not ready yet"
        return None


def _wait_authenticated_200(dev: DevProcess, creds: Credentials | None, began: float,
                            limit: float = 60) -> tuple[float, Credentials]:
    """Poll as a developer would: wait for dev to say the API is up (reading its log costs the cloud
    nothing), sign in if no credentials are at hand, then call GET /notes, signed, until it answers 200."""
    while "\nAPI " not in dev.log():
        _check_alive(dev, began, limit)
        time.sleep(0.01)
    while True:
        _check_alive(dev, began, limit)
        creds = creds or _credentials()
        if creds:
            try:
                client = Client(dev.port, credentials=creds)
                status, _ = client.call("GET", "/notes")
                client.close()
                if status == 200:
                    return time.perf_counter() - began, creds
            except OSError:
                pass
        time.sleep(0.01)


def _check_alive(dev: DevProcess, began: float, limit: float) -> None:
    if dev.proc and dev.proc.poll() is not None:
        raise RuntimeError(f"stagewise dev exited: {dev.log()[-2000:]}")
    if time.perf_counter() - began > limit:
        raise RuntimeError("no authenticated 200 from GET /notes within the limit")


def _timed_start(creds: Credentials | None, *, cloud_port: int,
                 extra_args: tuple[str, ...] = ()) -> tuple[float, Credentials]:
    dev = DevProcess(port=free_port(), cloud_port=cloud_port, extra_args=extra_args)
    try:
        return _wait_authenticated_200(dev, creds, dev.start())
    finally:
        dev.stop()


def start_times(rounds: int = 3) -> dict[str, float | str]:
    """Fresh cloud; provisioned with the cloud stopped (it boots and restores); provisioned with it running."""
    fresh, stopped, running = [], [], []
    for _ in range(rounds):
        with project_copy(REPO) as (root, _state):
            compileall.compile_dir(root, quiet=1)  # what the first run in the copy writes (bench/__main__.py)
            cloud_port = free_port()
            seconds, creds = _timed_start(None, cloud_port=cloud_port)
            fresh.append(seconds)
            stopped.append(_timed_start(creds, cloud_port=cloud_port)[0])
            _timed_start(creds, cloud_port=cloud_port, extra_args=("--keep-cloud",))
            try:
                running.append(_timed_start(creds, cloud_port=cloud_port)[0])
            finally:
                subprocess.run([sys.executable, "-m", "stagewise.cli", "cloud", "stop"], capture_output=True)

    def med(values: list[float]) -> float:
        return round(sorted(values)[len(values) // 2], 2)

    return {"start_fresh_s": med(fresh), "start_provisioned_s": med(stopped),
            "start_provisioned_cloud_running_s": med(running),
            "start_fresh_range_s": f"{min(fresh):.2f}-{max(fresh):.2f}",
            "start_provisioned_range_s": f"{min(stopped):.2f}-{max(stopped):.2f}"}


def get_note_samples(port: int, creds: Credentials, note_id: str, n: int, *, warmup: int = 0) -> list[float]:
    """Seconds of each of `n` keep-alive `GET /notes/{id}`, after `warmup` unmeasured ones."""
    client = Client(port, credentials=creds)
    samples = []
    for _ in range(warmup + n):
        t0 = time.perf_counter()
        status, _ = client.call("GET", f"/notes/{note_id}")
        samples.append(time.perf_counter() - t0)
        if status != 200:
            raise RuntimeError(f"GET /notes/{{id}} answered {status}")
    client.close()
    return samples[warmup:]


def _latency(port: int, creds: Credentials, note_id: str, n: int = 500) -> dict[str, float]:
    samples = get_note_samples(port, creds, note_id, n)
    return {"get_note_p50_ms": median_ms(samples), "get_note_p99_ms": percentile_ms(samples, 99)}


def _under_load(port: int, creds: Credentials, note_id: str, *, idle: int = 200, slow: int = 20) -> dict:
    """Warm GET latency while `idle` keep-alive connections stay open (each answered once) and `slow`
    clients trickle a request head one byte every half second: others must not wait on them."""
    import socket

    opened, answered = [], 0
    for _ in range(idle):
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        conn.sendall(b"GET /notes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        opened.append(conn)
    for conn in opened:  # every one answered (a 403: unsigned), and kept open
        answered += conn.recv(4096).startswith(b"HTTP/1.1 ")
    stop = threading.Event()

    def trickle() -> None:
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        for byte in b"GET /notes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"y" * 1000:
            if stop.wait(0.5):
                break
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                break
        conn.close()

    slow_clients = [threading.Thread(target=trickle, daemon=True) for _ in range(slow)]
    for thread in slow_clients:
        thread.start()
    try:
        loaded = _latency(port, creds, note_id, n=300)
    finally:
        stop.set()
        for conn in opened:
            conn.close()
    return {"loaded_get_p50_ms": loaded["get_note_p50_ms"], "loaded_get_p99_ms": loaded["get_note_p99_ms"],
            "loaded_unanswered": idle - answered}


def _throughput(dev: DevProcess, creds: Credentials, note_id: str, clients: int = 8, seconds: float = 10) -> dict:
    """`clients` keep-alive connections from bench/load.py (a process of its own, one event loop), each
    sending one signed `GET /notes/{id}` after the other: the request is signed once and sent as is
    (the gateway verifies every one), so the figure is the server's, not a Python client's signing."""
    from bench import load

    path = f"/notes/{note_id}"
    headers = sign(creds, "GET", f"http://127.0.0.1:{dev.port}{path}")
    running = load.start(dev.port, path, connections=clients, seconds=seconds, headers=headers)
    time.sleep(seconds / 2)
    rss, by_role = dev.rss_mb(), dev.pss_by_role_mb()
    figures = load.result(running)
    pss = round(sum(mb for role, mb in by_role.items() if role != "workers"), 1)  # the same /proc read
    return {"throughput_rps_8": figures["rps"], "throughput_p99_ms_8": figures["p99_ms"],
            "throughput_errors": figures["errors"], "rss_under_load_mb": rss, "pss_under_load_mb": pss,
            **{f"pss_under_load_mb[{role}]": mb for role, mb in by_role.items() if role != "workers"},
            "workers_under_load": by_role["workers"]}


def _idle_cpu(dev: DevProcess, seconds: float = 10, settle: float = 3) -> dict[str, float]:
    """The whole tree's CPU while nothing is asked of it (after the releases a start schedules)."""
    time.sleep(settle)
    began, used = time.monotonic(), dev.cpu_s()
    time.sleep(seconds)
    return {"idle_cpu_pct": round((dev.cpu_s() - used) / (time.monotonic() - began) * 100, 2)}


def _warm_billing_path(dev: DevProcess, creds: Credentials, limit: float = 20) -> None:
    """One purchase: starts the local Stripe (on its first connection) and, through SNS, notify-job."""
    from bench.billing_bench import _wait_for_sms
    from stagewise.cloud import sent_sms
    from stagewise.localstage import connect

    status, body = Client(dev.port, credentials=creds).call("POST", "/billing", {"storage": 10, "source": "tok_visa"})
    if status != 200:
        raise RuntimeError(f"POST /billing answered {status}: {body}")
    _wait_for_sms(sent_sms, connect("local"), 1, limit)


def _reload(dev: DevProcess, root: Path, creds: Credentials, rounds: int = 5) -> dict[str, float]:
    """Save a handler file that changes an answer; time until the new answer is served."""
    from bench.reload_target import apply_change, observe

    samples = []
    client = Client(dev.port, credentials=creds)
    for i in range(rounds):
        t0 = time.perf_counter()
        apply_change(root, i)
        while not observe(client, i):
            if time.perf_counter() - t0 > 10:
                said = "\n".join(dev.log().splitlines()[-15:])
                raise RuntimeError(f"hot reload (round {i}) did not show the new code within 10 s; dev's log ends:\n{said}")
            time.sleep(0.005)
        samples.append(time.perf_counter() - t0)
    client.close()
    return {"hot_reload_ms": median_ms(samples)}


def serving() -> dict[str, float]:
    with project_copy(REPO) as (root, _state):
        dev = DevProcess(port=free_port(), cloud_port=free_port())
        try:
            _, creds = _wait_authenticated_200(dev, None, dev.start())
            status, note = Client(dev.port, credentials=creds).call("POST", "/notes", {"content": "bench"})
            if status != 201:
                raise RuntimeError(f"POST /notes answered {status}: {note}")
            if Client(dev.port).call("GET", "/openapi.json")[0] != 200:  # asks every API function: all warm
                raise RuntimeError("GET /openapi.json did not answer 200")
            _warm_billing_path(dev, creds)  # the local Stripe and notify-job too, as the memory target says
            figures = _idle_cpu(dev)
            figures.update(_latency(dev.port, creds, note["noteId"]))
            figures.update(_under_load(dev.port, creds, note["noteId"]))
            figures.update(_throughput(dev, creds, note["noteId"]))
            figures.update(_reload(dev, root, creds))
            return figures
        finally:
            dev.stop()


def cold_init(handlers: dict[str, tuple[Path, str]], rounds: int = 5) -> dict[str, float]:
    """Init Duration of each handler as `stagewise dev` pays it: from asking the worker template for a
    worker to the worker's init report (fork, the function's environment, importing the handler), median
    ms of `rounds` fresh workers; and, for comparison, the import in a fresh interpreter (no template)."""
    from stagewise.runtime.model import FunctionSpec
    from stagewise.runtime.reload import watched_roots
    from stagewise.runtime.template import Template
    from stagewise.runtime.workers import INIT_LIMIT_S, Worker, import_scope_of, worker_environment

    specs = {name: FunctionSpec(logical_id=name, name=name, arn=f"arn:aws:lambda:us-east-1:000000000000:function:{name}",
                                handler=f"{module}.handler", source_dir=source, environment={}, timeout_s=10,
                                memory_mb=256) for name, (source, module) in handlers.items()}
    envs = {name: worker_environment(spec, base={}, region="us-east-1") for name, spec in specs.items()}
    template = Template("python3.12", envs=envs, source_dirs=[s.source_dir for s in specs.values()],
                        roots=watched_roots((s.source_dir for s in specs.values()), REPO), log=lambda line: None)
    template.start()
    figures = {}
    try:
        for name, spec in specs.items():
            samples, scope = [], import_scope_of(spec)
            for _ in range(rounds + 1):  # the first waits for the template to be ready: not counted
                worker = Worker(spec, env=envs[name], repo_root=REPO, log=lambda line: None, generation=0,
                                scope=scope, template=template)
                if not worker.wait_ready(time.monotonic() + INIT_LIMIT_S).get("ok"):
                    raise RuntimeError(f"{name}: init failed")
                samples.append(worker.init_ms / 1000)
                worker.kill()
            figures[f"cold_init_ms[{name}]"] = median_ms(samples[1:])
    finally:
        template.stop()
    for name, (source, module) in handlers.items():
        code = ("import sys,time;sys.path[:0]=[sys.argv[1],sys.argv[2]];t=time.perf_counter();"
                f"import {module};print(time.perf_counter()-t)")
        samples = [float(subprocess.run([sys.executable, "-c", code, str(source), str(REPO)], check=True,
                                        capture_output=True, text=True).stdout) for _ in range(rounds)]
        figures[f"cold_import_ms[{name}]"] = median_ms(samples)
    return figures
