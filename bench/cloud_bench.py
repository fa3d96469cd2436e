"""The local cloud's own cost for one SDK call: CPU time of a DynamoDB GetItem answered in-process by
the cloud's WSGI app (guard, lock, moto's dispatch and serializer) plus the client's signing and
parsing — no socket, so the figure is the per-request work, not this shared machine's scheduling.
"""

from __future__ import annotations

import os
import statistics
import tempfile
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
