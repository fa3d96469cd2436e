"""`--since 10m`: a relative time window of the trace and log commands."""

from __future__ import annotations

import re
import time

from stagewise.errors import UserError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SINCE = re.compile(r"^(\d+)([smhd])$")


def since_epoch(value: str | None, *, now: float | None = None) -> float | None:
    """Epoch seconds `value` ago (`30s`, `10m`, `2h`, `1d`); None for no window."""
    if value is None:
        return None
    found = _SINCE.match(value.strip())
    if not found:
        raise UserError(f"--since takes a number and a unit (s, m, h, d), e.g. --since 10m; got '{value}'")
    return (now if now is not None else time.time()) - int(found.group(1)) * _UNITS[found.group(2)]
