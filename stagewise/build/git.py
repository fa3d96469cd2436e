"""The git state a build records: which commit, and whether the working tree differed from it.

Data flow: `git_state(root)` runs `git rev-parse HEAD` and `git status --porcelain` in the
project root → `GitState(commit, dirty)`. Outside a git repository the commit is None and the
build counts as dirty (nothing could rebuild it).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitState:
    commit: str | None
    dirty: bool


def git_state(root: Path) -> GitState:
    commit = _git(root, "rev-parse", "--verify", "HEAD")
    if commit is None:
        return GitState(commit=None, dirty=True)
    status = _git(root, "status", "--porcelain", "--untracked-files=normal")
    return GitState(commit=commit, dirty=bool(status))


def _git(root: Path, *args: str) -> str | None:
    try:
        proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return None  # no git on this machine
    return proc.stdout.strip() if proc.returncode == 0 else None
