"""Run the stagewise CLI in a child process against a test's local cloud (port from STAGEWISE_TEST_CLOUD_PORT).

Used by the kill -9 test: the only difference from `stagewise` is where the local cloud listens.
"""

from __future__ import annotations

import os
from pathlib import Path

import stagewise.cloud
from stagewise.cli import main

PORT = int(os.environ["STAGEWISE_TEST_CLOUD_PORT"])


class _TestCloud(stagewise.cloud.LocalCloud):
    def __init__(self, state_dir: Path, port: int = PORT) -> None:
        super().__init__(state_dir, port)


stagewise.cloud.LocalCloud = _TestCloud  # type: ignore[misc]

if __name__ == "__main__":
    main()
