"""The local API Gateway and Lambda write their segments to a real daemon, in-process: one request with a
Lambda authorizer is one trace (the authorizer's and the integration's invocations under the gateway's
segment), the function's output is kept in its log file with the trace, and the dev page lists it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stagewise.runtime import Runtime, RuntimeModel
from stagewise.tracing.local import LocalTracing
from stagewise.tracing.model import Trace
from tests.runtime.authz_stacks import authz_stack
from tests.runtime.conftest import BASE_ENV, Logs, app_copy, logs  # noqa: F401 - fixtures
from tests.runtime.stacks import REGION


def traced_model(repo: Path) -> RuntimeModel:
    """The fixture stacks with the stage's tracing on (`TracingEnabled`, `TracingConfig: Active`)."""
    model = RuntimeModel.from_stacks([authz_stack()], repo_root=repo)
    functions = {k: dataclasses.replace(f, tracing=True) for k, f in model.functions.items()}
    for api in model.apis.values():
        api.tracing = True
    return dataclasses.replace(model, functions=functions)


@pytest.fixture
def served(app_copy: Path, logs: Logs, tmp_path: Path) -> Iterator[tuple[LocalTracing, httpx.Client]]:  # noqa: F811
    tracing = LocalTracing.for_stage(tmp_path / "state", "dev")
    env = {**BASE_ENV, **tracing.start()}
    runtime = Runtime(traced_model(app_copy), repo_root=app_copy, worker_env=env, region=REGION, log=logs,
                      hot_reload=False, tracing=tracing)
    runtime.start(port=0)
    client = httpx.Client(base_url=runtime.url, timeout=30)
    yield tracing, client  # pytest runs what follows whatever the test did
    client.close()
    runtime.stop()
    tracing.stop()


def wait_documents(tracing: LocalTracing, trace_id: str, count: int, limit: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        documents = tracing.store.documents(trace_id)
        if len(documents) >= count:
            return documents
        time.sleep(0.05)
    raise AssertionError(f"{len(tracing.store.documents(trace_id))} documents of {trace_id}, wanted {count}")


def test_an_authorized_request_is_one_trace_with_both_invocations_under_the_gateway(served, logs) -> None:  # noqa: F811
    tracing, client = served
    response = client.get("/pets/1", headers={"Authorization": "allow"})
    assert response.status_code == 200
    trace_id = response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")
    documents = wait_documents(tracing, trace_id, 3)
    gateway = next(d for d in documents if d["origin"] == "AWS::ApiGateway::Stage")
    functions = [d for d in documents if d["origin"] == "AWS::Lambda::Function"]
    assert len(functions) == 2 and {f["parent_id"] for f in functions} == {gateway["id"]}
    assert all(f["subsegments"][0]["name"] == "Initialization" for f in functions)  # both cold
    event = response.json()["event"]
    assert event["headers"]["X-Amzn-Trace-Id"] == f"Root={trace_id};Parent={gateway['id']};Sampled=1"
    assert any(line.endswith(f"trace {trace_id}") and line.startswith("GET /pets/1 200") for line in logs)
    page = client.get(f"/_stagewise/traces/{trace_id}")
    assert page.status_code == 200 and gateway["name"] in page.text
    assert trace_id in client.get("/_stagewise/traces").text
    rows = Trace(trace_id, documents).rows
    assert rows[0].name == gateway["name"] and rows[0].status == 200


def test_a_caller_that_says_not_sampled_is_not_traced(served) -> None:
    tracing, client = served
    root = "1-6b0e97ed-83e0bd305c2fbeee8d5c1259"
    response = client.get("/pets/1", headers={"Authorization": "allow", "X-Amzn-Trace-Id": f"Root={root};Sampled=0"})
    assert response.status_code == 200 and "X-Amzn-Trace-Id" not in response.headers
    time.sleep(0.3)
    assert tracing.store.documents(root) == []


def test_an_unknown_trace_page_is_404(served) -> None:
    _, client = served
    assert client.get("/_stagewise/traces/1-00000000-000000000000000000000000").status_code == 404
