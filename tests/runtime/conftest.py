"""Runtime test fixtures: a running Runtime over a copy of the fixture app, on a free loopback port
and always stopped; a local Cognito JWKS (`cognito`) that signs test tokens."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stagewise.runtime import Runtime, RuntimeModel
from tests.runtime.stacks import FIXTURE_APP, REGION, api_stack, billing_stack
from tests.runtime.tokens import JwksServer

BASE_ENV = {"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "local-key",
            "AWS_SECRET_ACCESS_KEY": "local-secret"}


class Logs(list):
    def __call__(self, line: str) -> None:
        self.append(line)

    def text(self) -> str:
        return "\n".join(self)


@pytest.fixture
def app_copy(tmp_path: Path) -> Path:
    target = tmp_path / "app"
    shutil.copytree(FIXTURE_APP, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def start_runtime(repo: Path, logs: Logs, *, pool_id: str = "us-east-1_pool", endpoint: str | None = None,
                  **kwargs) -> Runtime:
    model = RuntimeModel.from_stacks([api_stack(pool_id), billing_stack()], repo_root=repo)
    env = {**BASE_ENV, "AWS_ENDPOINT_URL": endpoint} if endpoint else BASE_ENV
    runtime = Runtime(model, repo_root=repo, worker_env=env, region=REGION, log=logs, **kwargs)
    runtime.start(port=0)
    # Tests count workers: start from the steady state, every worker forked (a request made while
    # a template still preloads gets a plain process that is replaced later: test_template.py).
    deadline = time.monotonic() + 10
    while not all(t.ready or t.failure for t in runtime.workers.templates.values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    return runtime


@pytest.fixture
def cognito() -> Iterator[JwksServer]:
    """A local Cognito JWKS endpoint that signs test tokens (`cognito.token(...)`)."""
    server = JwksServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def logs() -> Logs:
    return Logs()


@pytest.fixture
def runtime(app_copy: Path, logs: Logs, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("PARENT_ONLY_SECRET", "must-not-leak")
    rt = start_runtime(app_copy, logs)
    try:
        yield rt
    finally:
        rt.stop()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=runtime.url, timeout=30) as http:
        yield http
