"""write_atomically: the old content or the new one, never half, never a stray temp file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from stagewise.fileio import write_atomically


@pytest.mark.parametrize("durable", [False, True])
def test_writes_private_content_and_leaves_no_temp_file(tmp_path: Path, durable: bool) -> None:
    path = tmp_path / "deep" / "state.json"
    write_atomically(path, b"one", durable=durable)
    write_atomically(path, b"two", durable=durable)
    assert path.read_bytes() == b"two"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]


def test_a_failed_write_keeps_the_old_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.json"
    write_atomically(path, b"old")

    def broken_replace(source: str, dest: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        write_atomically(path, b"new", durable=True)
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
