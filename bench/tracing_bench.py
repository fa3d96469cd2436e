"""Tracing's cost (issue 12): warm request p50 with tracing on and off in the same run, whether the local
X-Ray daemon keeps up with 500 requests/s (segments sent vs stored), and a traced handler's cold init
beside the untraced one.

Usage:  python -m bench.tracing_bench      (prints the figures as JSON; `make bench` runs it with the rest)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.dev_bench import REPO, _wait_authenticated_200, get_note_samples
from stagewise.testing import Client, DevProcess, free_port, median_ms, project_copy

HANDLERS = {
    "notes-api": (REPO / "services/notes-api", "notes_api.api"),
    "billing-api": (REPO / "services/billing-api", "billing_api.api"),
}


def warm_on_off(rounds: int = 4, n: int = 300) -> dict[str, float]:
    """Warm `GET /notes/{id}` p50 under `dev` and `dev --no-tracing`, alternating, one local cloud."""
    samples: dict[str, list[float]] = {"on": [], "off": []}
    with project_copy(REPO) as (_root, _state):
        cloud_port, creds, note_id = free_port(), None, None
        try:
            for round_ in range(rounds):
                for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
                    args = ("--keep-cloud",) + (() if mode == "on" else ("--no-tracing",))
                    dev = DevProcess(port=free_port(), cloud_port=cloud_port, extra_args=args)
                    try:
                        _, creds = _wait_authenticated_200(dev, creds, dev.start())
                        if note_id is None:
                            note_id = Client(dev.port, credentials=creds).call("POST", "/notes", {"content": "b"})[1]["noteId"]
                        samples[mode] += get_note_samples(dev.port, creds, note_id, n, warmup=50)
                    finally:
                        dev.stop()
        finally:
            subprocess.run([sys.executable, "-m", "stagewise.cli", "cloud", "stop"], capture_output=True)
    on, off = median_ms(samples["on"]), median_ms(samples["off"])
    return {"traced_get_p50_ms": on, "untraced_get_p50_ms": off, "tracing_cost_p50_ms": round(on - off, 2)}


def _request_documents(n: int) -> list[dict]:
    """The documents one traced API request sends: API Gateway's, Lambda's, and the handler's
    subsegment tree as the X-Ray SDK streams it (with one DynamoDB call)."""
    from stagewise.tracing import segments as xr

    now = time.time()
    header = xr.TraceHeader(xr.new_trace_id(), None, True)
    request = xr.GatewayRequest(method="GET", url=f"https://x.execute-api.us-east-1.amazonaws.com/local/notes/{n}",
                                client_ip="127.0.0.1", user_agent="bench", status=200, request_id=str(n),
                                api_id="x", stage="local", account_id="111111111111", region="us-east-1")
    gateway_id, function_id = xr.new_id(), xr.new_id()
    call = xr.Invocation(function_name="local-notes-get-note", arn="arn:aws:lambda:us-east-1:111111111111:function:f",
                         request_id=str(n), started=now, ended=now + 0.004, init_s=None, fault=None)
    handler = {"trace_id": header.root, "id": xr.new_id(), "parent_id": function_id, "type": "subsegment",
               "name": "## handler", "namespace": "local", "start_time": now, "end_time": now + 0.003,
               "annotations": {"ColdStart": False, "Service": "notes-api", "identity_id": "us-east-1:" + "0" * 36},
               "subsegments": [{"id": xr.new_id(), "name": "dynamodb", "namespace": "aws", "start_time": now,
                                "end_time": now + 0.002, "http": {"response": {"status": 200}},
                                "aws": {"operation": "GetItem", "region": "us-east-1", "table_name": "notes",
                                        "request_id": "R" * 52, "retries": 0}}]}
    return [handler, xr.function_segment(xr.TraceHeader(header.root, gateway_id, True), segment_id=function_id, call=call),
            xr.gateway_segment(header, segment_id=gateway_id, name="notes/local", request=request, started=now,
                               ended=now + 0.005)]


def daemon_throughput(rate: int = 500, seconds: float = 5.0) -> dict[str, float]:
    """Send the documents of `rate` requests/s for `seconds` over UDP; count what the daemon stored."""
    from stagewise.tracing.daemon import XRayDaemon
    from stagewise.tracing.emit import Emitter
    from stagewise.tracing.store import TraceStore

    with tempfile.TemporaryDirectory() as state:
        daemon = XRayDaemon(TraceStore(Path(state) / "traces.sqlite", max_traces=100_000), stage="bench")
        emitter = Emitter(daemon.start())
        sent, began, tick = 0, time.perf_counter(), 0.01
        for n in range(int(rate * seconds)):
            for document in _request_documents(n):
                emitter.send(document)
                sent += 1
            due = began + (n + 1) / rate
            if (n + 1) % int(rate * tick) == 0 and due > time.perf_counter():
                time.sleep(due - time.perf_counter())
        deadline = time.monotonic() + 10
        while daemon.stats.as_dict()["stored"] < sent and time.monotonic() < deadline:
            time.sleep(0.05)
        daemon.stop()
        stats = daemon.stats.as_dict()
    return {"daemon_segments_sent": sent, "daemon_segments_stored": stats["stored"],
            "daemon_segments_dropped": stats["dropped_malformed"] + stats["dropped_oversized"] + sent - stats["received"],
            "daemon_rate_rps": rate}


def cold_init(rounds: int = 5) -> dict[str, float]:
    """Import time of a handler module in a fresh interpreter with Powertools Tracer on (inside Lambda, a
    daemon to send to) and off (POWERTOOLS_TRACE_DISABLED), median ms."""
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"}
    traced = {**base, "LAMBDA_TASK_ROOT": "/tmp", "AWS_LAMBDA_FUNCTION_NAME": "bench",
              "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9", "_X_AMZN_TRACE_ID": "Root=1-00000000-000000000000000000000000"}
    untraced = {**base, "LAMBDA_TASK_ROOT": "/tmp", "AWS_LAMBDA_FUNCTION_NAME": "bench", "POWERTOOLS_TRACE_DISABLED": "true"}
    figures = {}
    for name, (source, module) in HANDLERS.items():
        code = ("import sys,time;sys.path[:0]=[sys.argv[1],sys.argv[2]];t=time.perf_counter();"
                f"import {module};print(time.perf_counter()-t)")
        for label, env in (("traced", traced), ("untraced", untraced)):
            samples = [float(subprocess.run([sys.executable, "-c", code, str(source), str(REPO)], check=True, env=env,
                                            capture_output=True, text=True).stdout) for _ in range(rounds)]
            figures[f"cold_init_{label}_ms[{name}]"] = median_ms(samples)
    return figures


def run() -> dict[str, float]:
    figures = daemon_throughput()
    figures.update(cold_init())
    figures.update(warm_on_off())
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
