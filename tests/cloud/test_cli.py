"""`stagewise cloud start|status|stop|reset` through the real CLI app."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stagewise.cli import app
from stagewise.cloud import LocalCloud
from tests.cloud.conftest import make_client
from tests.helpers import free_port

runner = CliRunner()


@pytest.fixture
def where(tmp_path: Path) -> Iterator[list[str]]:
    port, state_dir = free_port(), tmp_path / "state"
    try:
        yield ["--port", str(port), "--state-dir", str(state_dir)]
    finally:
        LocalCloud(state_dir, port).stop()


def test_start_status_stop_reset(where: list[str]) -> None:
    started = runner.invoke(app, ["cloud", "start", *where])
    assert started.exit_code == 0, started.output
    endpoint = f"http://127.0.0.1:{where[1]}"
    assert endpoint in started.output

    cloud = LocalCloud(Path(where[3]), int(where[1]))
    make_client(cloud, "sqs").create_queue(QueueName="q1")
    status = runner.invoke(app, ["cloud", "status", *where])
    assert status.exit_code == 0 and status.output.startswith("running")
    assert f"pid {cloud.status().pid}" in status.output and "journal 1 entries" in status.output

    again = runner.invoke(app, ["cloud", "start", *where])
    assert again.exit_code == 0 and f"pid {cloud.status().pid}" in again.output

    refused = runner.invoke(app, ["cloud", "reset", *where], input="n\n")
    assert refused.exit_code == 1 and "nothing was deleted" in refused.output
    assert cloud.status().journal_entries == 1

    reset = runner.invoke(app, ["cloud", "reset", "--yes", *where])
    assert reset.exit_code == 0, reset.output
    assert make_client(cloud, "sqs").list_queues().get("QueueUrls", []) == []

    stopped = runner.invoke(app, ["cloud", "stop", *where])
    assert stopped.exit_code == 0 and "stopped" in stopped.output
    after = runner.invoke(app, ["cloud", "status", *where])
    assert after.exit_code == 1 and after.output.startswith("stopped")


def test_busy_port_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "stagewise.cli", "cloud", "start", "--port", str(port), "--state-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=60, check=False,
        )
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        f"error: port {port} is in use by another program; pass --port <free port> or stop it first"
    ]


@pytest.mark.parametrize("verb", ["start", "stop", "status", "reset"])
def test_help_shows_an_example(verb: str) -> None:
    result = runner.invoke(app, ["cloud", verb, "--help"])
    assert result.exit_code == 0 and "Example:" in result.output and f"stagewise cloud {verb}" in result.output
