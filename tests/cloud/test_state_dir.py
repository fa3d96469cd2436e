"""Where the local cloud keeps its state: next to stagewise.toml unless STAGEWISE_STATE_DIR says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewise.cloud import default_state_dir


def test_state_dir_is_beside_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stagewise.toml").write_text('[app]\nname = "notes"\n')
    (tmp_path / "services" / "x").mkdir(parents=True)
    monkeypatch.delenv("STAGEWISE_STATE_DIR", raising=False)
    monkeypatch.delenv("STAGEWISE_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path / "services" / "x")
    assert default_state_dir() == tmp_path.resolve() / ".stagewise" / "cloud"


def test_env_overrides_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGEWISE_STATE_DIR", str(tmp_path / "elsewhere"))
    assert default_state_dir() == (tmp_path / "elsewhere").resolve()


def test_a_cloud_started_on_a_port_is_found_without_one(cloud) -> None:
    # GIVEN a cloud started on a non-default port (the fixture picks a free one)
    # WHEN a command opens the same state dir without naming a port
    found = type(cloud)(cloud.state_dir)
    # THEN it reaches that cloud
    assert found.port == cloud.port
    assert found.status().running
