"""CLI start-up figures: `stagewise --help`, and `stagewise token EMAIL` for a user signed in before.

Each is a fresh process, timed from spawn to exit, as a user (or a script calling it in a loop)
pays it; the median of the rounds. The token figure runs against a `stagewise dev` of the app.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from stagewise.testing import DevProcess, free_port, project_copy

REPO = Path(__file__).resolve().parents[1]
EMAIL = "bench-cli@example.com"


def _timed(args: list[str], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "stagewise.cli", *args], capture_output=True, text=True)
        samples.append(time.perf_counter() - began)
        if done.returncode != 0:
            raise RuntimeError(f"stagewise {' '.join(args)} failed: {done.stderr.strip()}")
    return round(statistics.median(samples), 3)


def _wait_token(dev: DevProcess, limit: float = 60) -> None:
    """The first `token` call creates the user (the full path); wait until the stage answers it."""
    deadline = time.monotonic() + limit
    while True:
        done = subprocess.run([sys.executable, "-m", "stagewise.cli", "token", EMAIL], capture_output=True)
        if done.returncode == 0:
            return
        if time.monotonic() > deadline or (dev.proc and dev.proc.poll() is not None):
            raise RuntimeError(f"stagewise token never succeeded: {done.stderr.decode().strip()}\n{dev.log()}")
        time.sleep(0.5)


def run(rounds: int = 9) -> dict[str, float]:
    figures = {"cli_help_s": _timed(["--help"], rounds)}
    with project_copy(REPO):
        dev = DevProcess(port=free_port(), cloud_port=free_port())
        dev.start()
        try:
            _wait_token(dev)
            figures["cli_token_s"] = _timed(["token", EMAIL], rounds)
        finally:
            dev.stop()
    return figures
