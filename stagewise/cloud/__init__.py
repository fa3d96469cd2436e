"""The local cloud: one durable moto server on loopback, and the clients that talk to it.

Data flow: `LocalCloud` manages the server process of a state dir (`server.py` →
`app.DurableApp`, which journals every mutating request before answering and
replays the journal on start). Other parts reach it through `endpoint`, with
`credentials(endpoint, account_id)` / `client(...)` / `session(...)` acting in one
AWS account (`accounts.py`), and read SMS sends with `sent_sms` (`messages.py`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from stagewise.cloud.process import DEFAULT_PORT, CloudState, CloudStatus, LocalCloud

# boto3 (clients) is imported on first use, so commands that only manage the cloud start fast.
_LAZY = {
    "CloudSession": "stagewise.cloud.accounts",
    "client": "stagewise.cloud.accounts",
    "credentials": "stagewise.cloud.accounts",
    "session": "stagewise.cloud.accounts",
    "sent_sms": "stagewise.cloud.messages",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'stagewise.cloud' has no attribute {name!r}")

STATE_DIR_ENV = "STAGEWISE_STATE_DIR"


def default_state_dir() -> Path:
    """STAGEWISE_STATE_DIR, else `<folder of stagewise.toml>/.stagewise/cloud`."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).resolve()
    from stagewise.config import find_manifest  # pydantic: ~90 ms the cloud server does not need

    return find_manifest().parent / ".stagewise" / "cloud"


__all__ = [
    "DEFAULT_PORT",
    "CloudSession",
    "CloudState",
    "CloudStatus",
    "LocalCloud",
    "client",
    "credentials",
    "default_state_dir",
    "sent_sms",
    "session",
]
