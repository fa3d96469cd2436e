"""bench/load.py, the benchmarks' load generator: every request carries the headers it is given (a
signed route gets one signature's headers), and answers other than 200 are counted."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import load


class _Checking(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the generator expects

    def do_GET(self) -> None:  # noqa: N802 — http.server's naming
        ok = self.headers.get("X-Signed") == "yes" and self.path == "/notes/1"
        body = b"{}"
        self.send_response(200 if ok else 403)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Checking)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_every_request_carries_the_given_headers(port: int) -> None:
    figures = asyncio.run(load.run(port, "/notes/1", connections=2, seconds=0.3, headers=("X-Signed: yes",)))
    assert figures["rps"] > 0 and figures["errors"] == 0


def test_answers_other_than_200_are_counted(port: int) -> None:
    figures = asyncio.run(load.run(port, "/notes/1", connections=2, seconds=0.3))
    assert figures["rps"] > 0 and figures["errors"] > 0


def test_run_in_its_own_process_passes_the_headers_on(port: int) -> None:
    figures = load.result(load.start(port, "/notes/1", connections=1, seconds=0.3, headers={"X-Signed": "yes"}))
    assert figures["rps"] > 0 and figures["errors"] == 0
