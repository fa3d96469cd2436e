"""A keep-alive HTTP/1.1 load generator for the benchmarks: `python -m bench.load --port P --path /x`.

Runs in its own process on one event loop (uvloop when installed), so the client's cost stays small
and off the server's interpreter: `connections` connections each send a request, read the whole
answer (Content-Length framing), and send the next, for `seconds`. Prints JSON: requests per second,
p50/p99 latency (ms) and the number of answers that were not 200. `--header "Name: value"` adds a
header to every request: a SigV4-signed route gets the headers of one signature, made once and sent
on every request (the server verifies each; a signature stays valid for 5 minutes, on AWS too), so the
client spends no CPU signing while it measures the server. `start(...)` / `result(...)` run it from a
benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Mapping


async def _connection(port: int, request: bytes, stop_at: float, samples: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < stop_at:
            began = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            samples.append(time.perf_counter() - began)
            errors[0] += not head.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()


async def run(port: int, path: str, connections: int, seconds: float,
              headers: tuple[str, ...] = ()) -> dict[str, float]:
    extra = "".join(f"{header}\r\n" for header in headers)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n".encode()
    samples: list[float] = []
    errors = [0]
    began = time.perf_counter()
    stop_at = began + seconds
    await asyncio.gather(*(_connection(port, request, stop_at, samples, errors) for _ in range(connections)))
    elapsed = time.perf_counter() - began
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] * 1000, 2) if ordered else 0.0

    return {"rps": round(len(samples) / elapsed, 1), "p50_ms": pct(50), "p99_ms": pct(99), "errors": errors[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", required=True)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--header", action="append", default=[], metavar='"NAME: VALUE"')
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    print(json.dumps(runner(run(args.port, args.path, args.connections, args.seconds, tuple(args.header)))))


def start(port: int, path: str, *, connections: int, seconds: float,
          headers: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """The load generator in a process of its own (read its figures with `result`)."""
    command = [sys.executable, "-m", "bench.load", "--port", str(port), "--path", path,
               "--connections", str(connections), "--seconds", str(seconds)]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def result(process: subprocess.Popen[str]) -> dict[str, float]:
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"bench.load failed ({process.returncode}): {err.strip()[-500:]}")
    return json.loads(out)


if __name__ == "__main__":
    main()
