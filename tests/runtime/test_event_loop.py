"""The gateway on the HTTP server's event loop: a warm request makes no thread hop, and a function that
takes its time holds no other request up."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx


def _request_threads() -> set[str]:
    return {t.name for t in threading.enumerate() if t.name.startswith("stagewise-blocking")}


def test_warm_requests_are_served_on_the_loop_without_a_thread(runtime, client):
    assert client.get("/echo").status_code == 200  # cold start: its init may use the executor
    before = _request_threads()
    for _ in range(50):
        assert client.get("/items/7").json() == {"id": "7"}
        assert client.get("/echo").status_code == 200
    after = _request_threads()
    assert after == before  # no thread started for them


def test_a_slow_function_holds_up_no_other_request(runtime, client):
    client.get("/echo")
    client.get("/pid")
    with ThreadPoolExecutor(2) as pool:
        slow = pool.submit(httpx.get, runtime.url + "/pid?sleep=1.5", timeout=10)
        time.sleep(0.2)
        began = time.perf_counter()
        for _ in range(20):
            assert client.get("/echo").status_code == 200
        assert time.perf_counter() - began < 1.0  # answered while /pid sleeps
        assert slow.result().status_code == 200
