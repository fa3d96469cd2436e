"""Small helpers shared by the test suites."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from stagewise.net import free_port  # noqa: F401 — the suites import it from here

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True,
                          env={**os.environ, **GIT_ENV})
    return done.stdout.strip()


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def make_repo(root: Path) -> str:
    """Make `root` a git repository with everything committed (what promote needs); returns the commit."""
    (root / ".gitignore").write_text("__pycache__/\n*.pyc\n.stagewise/\nknobs.json\n")
    git(root, "init", "-q")
    return commit_all(root, "the fixture project")


def run_program_ok(program: str, timeout: float = 120) -> None:
    """Run `program` in a fresh interpreter (what a module does at import shows there, not in this
    process) and check that it ends by printing "ok"."""
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
