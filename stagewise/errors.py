"""Errors a user can act on. The CLI prints their message alone (no traceback) and exits non-zero."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; the message says what was wrong and what to do."""

    exit_code = 2

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ConfigError(Exception):
    """A problem in stagewise.toml or in a requested stage; the message says what to do.

    Defined here, not in config.py, so the CLI can catch it without importing pydantic first.
    """
