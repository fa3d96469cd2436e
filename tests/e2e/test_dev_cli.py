"""`stagewise dev` failing clearly: a port in use, a broken manifest; and data kept across restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable

import pytest

from stagewise.cloud import CloudState, LocalCloud
from stagewise.testing import Client, DevProcess, free_port, process_role
from tests.e2e.conftest import sign_in, stagewise_cli, wait_ready
from tests.helpers import ends_within

pytestmark = pytest.mark.e2e


def test_port_in_use_is_one_clear_line_and_exit_2(app_copy):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = stagewise_cli("dev", "--port", str(port), "--cloud-port", str(free_port()), check=False)
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_manifest_is_one_clear_line(tmp_path, monkeypatch):
    (tmp_path / "stagewise.toml").write_text("[app]\nname = 'Bad Name'\n")
    monkeypatch.setenv("STAGEWISE_PROJECT", str(tmp_path))
    result = subprocess.run([sys.executable, "-m", "stagewise.cli", "synth", "--stage", "dev"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "stagewise.toml" in result.stderr and "name" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_stage_is_one_clear_line_and_leaves_no_cloud_running(app_copy):
    # dev starts the cloud before it reads the config (they load in parallel): a bad stage must stop it
    cloud_port = free_port()
    result = stagewise_cli("dev", "--stage", "no such", "--port", str(free_port()), "--cloud-port", str(cloud_port),
                           check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "no such" in result.stderr
    _, state_dir = app_copy
    assert LocalCloud(state_dir, cloud_port).status().state is CloudState.STOPPED  # no live server process


def test_notes_survive_a_restart_of_dev(app_copy):
    _a_note_outlives(DevProcess.stop, email="restart@example.com")


def _a_note_outlives(end: Callable[[DevProcess], None], *, email: str) -> None:
    """A note made in one dev, which `end` ends, is read back in the next dev by the same user."""
    first = DevProcess(port=free_port(), cloud_port=free_port())
    first.start()
    try:
        wait_ready(first)
        before = sign_in(email)
        status, note = Client(first.port, credentials=before).call("POST", "/notes", {"content": "kept"})
        assert status == 201, note
        end(first)
    finally:
        first.stop()
    second = DevProcess(port=free_port(), cloud_port=free_port())
    second.start()
    try:
        wait_ready(second)
        # the user signs in again and is the same identity: the notes keyed by its id are theirs
        after = sign_in(email)
        assert after["identityId"] == before["identityId"]
        status, again = Client(second.port, credentials=after).call("GET", f"/notes/{note['noteId']}")
        assert (status, again["content"]) == (200, "kept")
    finally:
        second.stop()


def test_the_dev_tree_is_told_apart_by_role(app_copy):
    """What the benchmarks' memory breakdown reads: every process of a dev tree has its role, forked
    workers counted under their template, and the roles' memory adds up to the tree's."""
    dev = DevProcess(port=free_port(), cloud_port=free_port())
    dev.start()
    try:
        wait_ready(dev)
        creds = sign_in("roles@example.com")
        assert Client(dev.port, credentials=creds).call("POST", "/notes", {"content": "x"})[0] == 201
        roles = {process_role(pid) for pid in dev.pids()}
        assert {"dev", "cloud", "template", "worker", "xray-daemon"} <= roles
        by_role = dev.pss_by_role_mb()
        assert by_role["workers"] >= 1
        assert abs(sum(mb for role, mb in by_role.items() if role != "workers") - dev.pss_mb()) < 20
    finally:
        dev.stop()


def test_a_dev_killed_outright_takes_its_cloud_down_and_loses_no_note(app_copy):
    """SIGKILL gives dev no chance to stop what it started. The cloud it started for itself sees its
    stdin pipe close (stagewise/lifeline.py) and stops cleanly; the next dev finds the notes."""

    def kill(dev: DevProcess) -> None:
        cloud = [pid for pid in dev.pids() if process_role(pid) == "cloud"]
        assert len(cloud) == 1
        os.kill(dev.proc.pid, signal.SIGKILL)
        dev.proc.wait()
        assert ends_within(cloud[0], seconds=10), "the cloud outlived the dev that started it"

    _a_note_outlives(kill, email="killed@example.com")


def test_a_cloud_kept_with_keep_cloud_outlives_even_a_killed_dev(app_copy):
    dev = DevProcess(port=free_port(), cloud_port=free_port(), extra_args=("--keep-cloud",))
    dev.start()
    try:
        wait_ready(dev)
        cloud = [pid for pid in dev.pids() if process_role(pid) == "cloud"]
        os.kill(dev.proc.pid, signal.SIGKILL)
        dev.proc.wait()
        assert not ends_within(cloud[0], seconds=1.5, kill=False)
    finally:
        dev.stop()
        _, state_dir = app_copy
        LocalCloud(state_dir, dev.cloud_port).stop()
