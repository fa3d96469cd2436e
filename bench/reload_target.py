"""The edit the hot-reload benchmark makes: change the notes API's 404 message and watch for it."""

from __future__ import annotations

import re
from pathlib import Path

from stagewise.testing import Client

TARGET = Path("services/notes-api/notes_api/notes.py")
MISSING_NOTE = "/notes/01AAAAAAAAAAAAAAAAAAAAAAAA"  # well-formed id that no note has


def apply_change(root: Path, round_no: int) -> None:
    path = root / TARGET
    text = path.read_text()
    path.write_text(re.sub(r'NOT_FOUND = "[^"]*"', f'NOT_FOUND = "note not found (edit {round_no})"', text))


def observe(client: Client, round_no: int) -> bool:
    status, body = client.call("GET", MISSING_NOTE)
    return status == 404 and body == {"message": f"note not found (edit {round_no})"}
