"""The second app (bench/hello): `stagewise dev` serving two public routes that make no AWS call.

Figures: start → first 200 of GET /hello; one connection's p50/p99 on GET /items/{id}; 8 keep-alive
connections' requests per second and p99 (bench/load.py in its own process); the dev tree's PSS.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench import load
from stagewise.testing import DevProcess, free_port, project_copy

APP = Path(__file__).resolve().parent / "hello"


def _load(port: int, path: str, connections: int, seconds: float) -> dict[str, float]:
    return load.result(load.start(port, path, connections=connections, seconds=seconds))


def _first_200(dev: DevProcess, began: float, limit: float = 60) -> float:
    import http.client

    while time.perf_counter() - began < limit:
        if dev.proc and dev.proc.poll() is not None:
            raise RuntimeError(f"stagewise dev exited: {dev.log()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=5)
            conn.request("GET", "/hello")
            if conn.getresponse().status == 200:
                return time.perf_counter() - began
        except OSError:
            pass
        time.sleep(0.01)
    raise RuntimeError("no 200 from GET /hello within the limit")


def run() -> dict[str, float]:
    with project_copy(APP) as (_root, _state):
        dev = DevProcess(port=free_port(), cloud_port=free_port())
        try:
            figures = {"hello_start_s": round(_first_200(dev, dev.start()), 2)}
            _load(dev.port, "/items/1", 1, 1)  # warm
            one = _load(dev.port, "/items/42", 1, 5)
            eight = _load(dev.port, "/hello", 8, 10)
            figures.update({"hello_p50_ms": one["p50_ms"], "hello_p99_ms": one["p99_ms"],
                            "hello_rps_8": eight["rps"], "hello_p99_ms_8": eight["p99_ms"],
                            "hello_errors": one["errors"] + eight["errors"], "hello_pss_mb": dev.pss_mb()})
            return figures
        finally:
            dev.stop()


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
