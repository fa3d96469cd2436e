"""The git state a build records."""

from __future__ import annotations

import subprocess
from pathlib import Path

from stagewise.build import git_state


def _git(root: Path, *args: str) -> str:
    cmd = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(cmd, cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def test_clean_then_dirty(tmp_path: Path) -> None:
    _git(tmp_path, "init", "-q")
    (tmp_path / "a.txt").write_text("a\n")
    _git(tmp_path, "add", "a.txt")
    _git(tmp_path, "commit", "-q", "-m", "first")
    head = _git(tmp_path, "rev-parse", "HEAD")

    clean = git_state(tmp_path)
    (tmp_path / "a.txt").write_text("b\n")
    dirty = git_state(tmp_path)

    assert (clean.commit, clean.dirty) == (head, False)
    assert (dirty.commit, dirty.dirty) == (head, True)


def test_outside_a_repository_there_is_no_commit_and_it_counts_as_dirty(tmp_path: Path) -> None:
    state = git_state(tmp_path)

    assert state.commit is None and state.dirty is True
