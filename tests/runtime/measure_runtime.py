"""Quick figures for docs/runtime.md (a few seconds): `.venv/bin/python -m tests.runtime.measure_runtime`.

Prints keep-alive latency through HTTP + gateway + worker, the same without a worker
(a 404 answered by the gateway), a direct worker invoke, and req/s over 8 connections.
"""

from __future__ import annotations

import http.client
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from tests.runtime.conftest import Logs, start_runtime
from tests.runtime.stacks import FIXTURE_APP


def timed(fn, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def get(conn: http.client.HTTPConnection, path: str) -> None:
    conn.request("GET", path)
    conn.getresponse().read()


def report(name: str, samples: list[float]) -> None:
    samples.sort()
    print(f"{name:<40} p50 {statistics.median(samples):.3f} ms  p99 {samples[int(len(samples) * 0.99) - 1]:.3f} ms")


def throughput(port: int, path: str, *, connections: int = 8, seconds: float = 2.0) -> float:
    counts = [0] * connections
    stop = time.perf_counter() + seconds

    def run(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        while time.perf_counter() < stop:
            get(conn, path)
            counts[index] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "app"
        shutil.copytree(FIXTURE_APP, repo)
        runtime = start_runtime(repo, Logs(), hot_reload=False)
        try:
            port = int(runtime.url.rsplit(":", 1)[1])
            conn = http.client.HTTPConnection("127.0.0.1", port)
            started = time.perf_counter()
            get(conn, "/pid")
            print(f"first request (cold start)                {(time.perf_counter() - started) * 1000:.1f} ms")
            report("keep-alive GET /pid (worker)", timed(lambda: get(conn, "/pid"), 500))
            report("keep-alive GET /nope (404, no worker)", timed(lambda: get(conn, "/nope"), 500))
            pool = runtime.workers.pool("Pid")
            report("direct worker invoke (no HTTP)", timed(lambda: pool.invoke({}), 500))
            print(f"req/s, 8 keep-alive connections, /pid     {throughput(port, '/pid'):.0f}")
            conn.close()
        finally:
            runtime.stop()


if __name__ == "__main__":
    main()
