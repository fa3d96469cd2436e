"""Time-ordered ids (ULID layout): sorting them as strings sorts them by creation time.

Layout: 26 Crockford base32 characters = 48-bit millisecond timestamp + 80 random bits.
Within one millisecond the generator is monotonic (the random part is incremented), so ids
made by one container in a burst still sort in creation order. Used as the notes table's
sort key, which is what makes "newest first" a plain reverse query.
"""

from __future__ import annotations

import re
import secrets
import threading
import time

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
_ID_RE = re.compile(ID_PATTERN)
_RANDOM_BITS = 80
_MAX_TIME = (1 << 48) - 1


class _Generator:
    """Keeps the last (time, random) pair so ids within one millisecond stay ordered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_random = 0

    def next(self, now_ms: int) -> int:
        with self._lock:
            if now_ms == self._last_ms and self._last_random < (1 << _RANDOM_BITS) - 1:
                rand = self._last_random + 1
            else:
                rand = secrets.randbits(_RANDOM_BITS)
            self._last_ms, self._last_random = now_ms, rand
            return (now_ms << _RANDOM_BITS) | rand


_GENERATOR = _Generator()


def new_id(now_ms: int | None = None) -> str:
    """A new 26-character id that sorts after every id this container made before."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if not 0 <= ms <= _MAX_TIME:
        raise ValueError(f"timestamp {ms} ms does not fit in 48 bits")
    return _encode(_GENERATOR.next(ms))


def is_valid_id(value: str) -> bool:
    """True when `value` has the id layout (26 upper-case Crockford base32 characters)."""
    return bool(_ID_RE.match(value))


def timestamp_ms(value: str) -> int:
    """The creation time (ms since the epoch) encoded in a valid id."""
    if not is_valid_id(value):
        raise ValueError(f"{value!r} is not a valid id")
    return _decode(value[:10])


def _encode(number: int) -> str:
    chars = []
    for _ in range(26):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def _decode(text: str) -> int:
    number = 0
    for char in text:
        number = number * 32 + ALPHABET.index(char)
    return number
