"""A child process that ends with the process that launched it, even one killed outright.

The launcher starts the child with `stdin=subprocess.PIPE` and keeps that pipe's only write end
(subprocess makes it close-on-exec, so no other child inherits it). The child reads its stdin to
the end, which comes when the launcher closes the pipe or is gone for whatever reason — SIGKILL and
crashes included, which leave it no chance to stop its children. The children that do this: the
local cloud `dev` starts for itself (not with `--keep-cloud`), a local stand-in, the X-Ray daemon.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable


def wait_for_launcher_exit() -> None:
    """Block until the launcher has closed our stdin or is gone."""
    sys.stdin.buffer.read()


def on_launcher_exit(action: Callable[[], None]) -> None:
    """Run `action` on a daemon thread once the launcher has closed our stdin or is gone."""

    def watch() -> None:
        wait_for_launcher_exit()
        action()

    threading.Thread(target=watch, name="launcher-watch", daemon=True).start()
