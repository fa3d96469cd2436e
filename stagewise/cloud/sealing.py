"""The local cloud's durable files, sealed: what was put into the cloud (SecureString values, test
passwords, artifact bytes) is never written to its journal or snapshot in the clear.

A key per state dir (`state.key`, 0600, made on first start, wiped by `cloud reset`) seals each
journal line and the snapshot with Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`): a
sealed record cannot be read or altered without the key. Records written before sealing existed
(a journal line that is JSON, a snapshot that is a pickle) are still read.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from stagewise.cloud.layout import STATE_KEY_FILE


class SealError(Exception):
    """A sealed record that this key cannot open (another cloud's, or altered)."""


class Seal:
    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    @classmethod
    def of(cls, state_dir: Path) -> Seal:
        """The state dir's seal (its key made, readable by its owner only, on first use)."""
        path = state_dir / STATE_KEY_FILE
        if not path.is_file():
            state_dir.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as out:
                    out.write(Fernet.generate_key())
                    out.flush()
                    os.fsync(out.fileno())
            except FileExistsError:
                pass
        return cls(path.read_bytes().strip())

    def seal(self, data: bytes) -> bytes:
        """An opaque token (URL-safe base64, no newline)."""
        return self._fernet.encrypt(data)

    def open(self, token: bytes) -> bytes:
        try:
            return self._fernet.decrypt(token.strip())
        except InvalidToken as exc:
            raise SealError("a sealed record does not open with this state dir's key") from exc
