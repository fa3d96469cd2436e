"""Small helpers shared by the test suites."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from stagewise.net import free_port  # noqa: F401 — the suites import it from here
from stagewise.testing import proc_stat

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


def ends_within(pid: int, *, seconds: float, kill: bool = True) -> bool:
    """Whether process `pid` ends within `seconds` (a zombie has ended: an orphan is reaped by whoever
    adopts it, maybe never in a container); if not and `kill`, it is killed, so nothing is left behind."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fields = proc_stat(pid)
        if fields is None or fields[0] == "Z":
            return True
        time.sleep(0.05)
    if kill:
        os.kill(pid, signal.SIGKILL)
    return False

