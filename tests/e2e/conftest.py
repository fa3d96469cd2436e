"""One real `stagewise dev` (own local cloud, free ports, temp state) shared by the e2e tests of a module."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stagewise.testing import Client, DevProcess, free_port, project_copy

REPO = Path(__file__).resolve().parents[2]


def stagewise_cli(*args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in a subprocess with this process's STAGEWISE_* environment."""
    return subprocess.run(
        [sys.executable, "-m", "stagewise.cli", *args], capture_output=True, text=True, check=check,
        input=input, env=os.environ.copy(), timeout=120,
    )


def wait_ready(dev: DevProcess, limit: float = 60) -> None:
    began = time.perf_counter()
    while time.perf_counter() - began < limit:
        if dev.proc.poll() is not None:
            raise RuntimeError(f"stagewise dev exited early:\n{dev.log()[-4000:]}")
        try:
            Client(dev.port).call("GET", "/notes")
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("stagewise dev did not serve within the limit")


@pytest.fixture(scope="module")
def app_copy():
    with project_copy(REPO) as (root, state):
        yield root, state


@pytest.fixture(scope="module")
def dev(app_copy):
    process = DevProcess(port=free_port(), cloud_port=free_port())
    process.start()
    try:
        wait_ready(process)
        yield process
    finally:
        process.stop()
        subprocess.run([sys.executable, "-m", "stagewise.cli", "cloud", "stop"], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def token(dev) -> str:
    return stagewise_cli("token", "alice@example.com").stdout.strip()


@pytest.fixture(scope="module")
def other_token(dev) -> str:
    return stagewise_cli("token", "bob@example.com").stdout.strip()


@pytest.fixture
def alice(dev, token):
    client = Client(dev.port, token)
    yield client
    client.close()


@pytest.fixture
def bob(dev, other_token):
    client = Client(dev.port, other_token)
    yield client
    client.close()
