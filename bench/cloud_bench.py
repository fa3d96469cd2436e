"""The local cloud's own cost for one SDK call: CPU time of a DynamoDB GetItem answered in-process by
the cloud's WSGI app (guard, lock, moto's dispatch and serializer) plus the client's signing and
parsing — no socket, so the figure is the per-request work, not this shared machine's scheduling;
over HTTP, the CPU the cloud's server process spends per GetItem of keep-alive boto3 clients
(its HTTP front end included), from /proc/<pid>/stat; and the CPU the calling client spends per
GetItem, through botocore's own urllib3 session and through the one a worker's clients use
(stagewise/runtime/sdk_http.py), alternated round by round.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

ACCOUNT = "111111111111"


def run(calls: int = 1000, rounds: int = 5) -> dict[str, float]:
    from stagewise.cloud.accounts import client
    from stagewise.cloud.inprocess import in_process
    from stagewise.cloud.server import attach_services, build_app

    os.environ.pop("MOTO_ACCOUNT_ID", None)
    with tempfile.TemporaryDirectory(prefix="stagewise-cloud-bench-") as tmp:
        app = build_app(Path(tmp))
        attach_services(app, "http://127.0.0.1:1")
        ddb = in_process(client("http://127.0.0.1:1", account_id=ACCOUNT, region="us-east-1", service="dynamodb"), app)
        ddb.create_table(TableName="bench", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.put_item(TableName="bench", Item={"pk": {"S": "a"}, "content": {"S": "x" * 200}})
        for _ in range(calls // 5):  # warm: models loaded, caches filled
            ddb.get_item(TableName="bench", Key={"pk": {"S": "a"}})
        samples = []
        for _ in range(rounds):
            began = time.process_time()
            for _ in range(calls):
                ddb.get_item(TableName="bench", Key={"pk": {"S": "a"}})
            samples.append((time.process_time() - began) / calls)
    return {"cloud_getitem_cpu_us": round(statistics.median(samples) * 1e6, 1)}


def _process_cpu_s(pid: int) -> float:
    from stagewise.testing import process_cpu_s

    used = process_cpu_s(pid)
    if used is None:
        raise RuntimeError(f"process {pid} is gone")
    return used


def over_http(calls: int = 3000, clients: tuple[int, ...] = (1, 4)) -> dict[str, float]:
    from stagewise.cloud import client
    from stagewise.testing import running_cloud

    figures = {}
    with tempfile.TemporaryDirectory(prefix="stagewise-cloud-bench-") as tmp, running_cloud(Path(tmp)) as cloud:
        ddb = client(cloud.endpoint, account_id=ACCOUNT, region="us-east-1", service="dynamodb")
        ddb.create_table(TableName="bench", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        ddb.put_item(TableName="bench", Item={"pk": {"S": "a"}, "content": {"S": "x" * 200}})
        pid = cloud.status().pid
        for count in clients:
            figures[f"cloud_getitem_http_cpu_us[{count}]"] = _cpu_per_call(cloud.endpoint, pid, calls, count)
        figures.update(_client_cpu_per_call(cloud.endpoint, calls // 3))
    return figures


def _client_cpu_per_call(endpoint: str, calls: int, rounds: int = 5) -> dict[str, float]:
    from stagewise.cloud import client
    from stagewise.runtime.sdk_http import LoopbackSession

    own = client(endpoint, account_id=ACCOUNT, region="us-east-1", service="dynamodb")
    direct = client(endpoint, account_id=ACCOUNT, region="us-east-1", service="dynamodb")
    direct._endpoint.http_session = LoopbackSession(timeout=(60, 60))  # what sdk_http.install() gives a worker's client
    samples: dict[str, list[float]] = {"urllib3": [], "direct": []}
    for _ in range(rounds):
        for name, ddb in (("urllib3", own), ("direct", direct)):
            for _ in range(50):  # warm: connection open
                ddb.get_item(TableName="bench", Key={"pk": {"S": "a"}})
            began = time.process_time()
            for _ in range(calls):
                ddb.get_item(TableName="bench", Key={"pk": {"S": "a"}})
            samples[name].append((time.process_time() - began) / calls)
    return {f"sdk_getitem_client_cpu_us[{name}]": round(statistics.median(values) * 1e6, 1)
            for name, values in samples.items()}


def _cpu_per_call(endpoint: str, pid: int, calls: int, count: int) -> float:
    from stagewise.cloud import client

    ready = threading.Barrier(count + 1)

    def run() -> None:
        ddb = client(endpoint, account_id=ACCOUNT, region="us-east-1", service="dynamodb")
        for _ in range(100):  # warm: connection open, moto's caches filled
            ddb.get_item(TableName="bench", Key={"pk": {"S": "a"}})
        ready.wait()
        for _ in range(calls // count):
            ddb.get_item(TableName="bench", Key={"pk": {"S": "a"}})

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    ready.wait()
    began = _process_cpu_s(pid)
    for thread in threads:
        thread.join()
    return round((_process_cpu_s(pid) - began) / (calls // count * count) * 1e6, 1)
