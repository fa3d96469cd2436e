"""JSON for stagewise's own hot paths (the gateway's frames to its workers, trace documents): orjson,
~15x faster than the stdlib's encoder on a proxy event (7.8 → 0.5 µs here), with the stdlib's rules
wherever orjson would differ.

`dumps` falls back to `json` for what orjson refuses (non-string keys, which json turns into strings);
`loads` falls back for what orjson refuses and json reads (NaN and Infinity, which a worker's stdlib
encoder writes for a handler's float('nan')). Workers themselves keep the stdlib (their answers are
encoded as Lambda's Python runtime encodes them), so only documents stagewise builds go through it.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """Compact JSON, UTF-8."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
