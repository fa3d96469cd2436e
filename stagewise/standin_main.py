"""A local stand-in's process: the app's module run as `__main__`, ended when its launcher is gone.

`LocalStandin` (stagewise/standins.py) runs `python -m stagewise.standin_main <module> --fd N
--state-dir D` from the project root, with a pipe on stdin that only the launcher holds. The module
runs as `python -m <module> --fd N --state-dir D` would run it (same `sys.argv`, `__main__`,
`sys.path`). A thread reads stdin to its end, which comes when the launcher closes it (after
`stop()`) or dies — even by SIGKILL (stagewise/lifeline.py) — and then ends the process the way
`stop()` would: SIGTERM, and SIGKILL if it still runs after the grace.
Without this an app's stand-in outlived a killed `stagewise dev` or `invoke`, holding its port.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
import time

from stagewise.lifeline import on_launcher_exit

GRACE_SECONDS = 5.0  # as LocalStandin.stop() waits between SIGTERM and SIGKILL


def _stop_as_the_launcher_would() -> None:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)
    os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> None:
    """`python -m stagewise.standin_main MODULE [ARGS...]`: run MODULE as `python -m MODULE ARGS...`."""
    if not argv:
        sys.exit("usage: python -m stagewise.standin_main MODULE [ARGS...]")
    module, *args = argv
    on_launcher_exit(_stop_as_the_launcher_would)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
