"""One real `stagewise dev` (own local cloud, free ports, temp state) shared by the e2e tests of a module.

Users call the API as the app's clients do: signed in to the local user pool, with their Cognito
identity's credentials from the identity pool (`sign_in`), every request SigV4-signed
(`stagewise.testing.Client(port, credentials=...)`, `httpx_auth(...)`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from stagewise import auth_local
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


def sign_in(email: str) -> dict[str, Any]:
    """`email`'s identity credentials on the local stage (the user is created if missing), as
    `stagewise credentials --json` prints them, plus their region."""
    return auth_local.sign_in("local", email)


@pytest.fixture(scope="module")
def alice_credentials(dev) -> dict[str, Any]:
    return sign_in("alice@example.com")


@pytest.fixture(scope="module")
def bob_credentials(dev) -> dict[str, Any]:
    return sign_in("bob@example.com")


@pytest.fixture
def alice(dev, alice_credentials):
    client = Client(dev.port, credentials=alice_credentials)
    yield client
    client.close()


@pytest.fixture
def bob(dev, bob_credentials):
    client = Client(dev.port, credentials=bob_credentials)
    yield client
    client.close()
