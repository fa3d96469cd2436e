"""stagewise.fastjson: orjson where it agrees with the stdlib, the stdlib where orjson would refuse."""

from __future__ import annotations

import json
import math

from stagewise import fastjson
from stagewise.runtime.protocol import FrameBuffer, encode


def test_dumps_is_compact_json_the_stdlib_reads_back() -> None:
    event = {"resource": "/items/{id}", "headers": {"User-Agent": "é✓"}, "body": None, "n": 1.5, "ok": True}
    assert json.loads(fastjson.dumps(event)) == event
    assert fastjson.dumps({"a": [1, 2]}) == b'{"a":[1,2]}'


def test_what_orjson_refuses_takes_the_stdlib_rules() -> None:
    assert json.loads(fastjson.dumps({1: "int key"})) == {"1": "int key"}  # json's rule, not a TypeError
    assert math.isnan(fastjson.loads(b'{"x": NaN}')["x"])  # what a worker's json.dumps writes for nan


def test_frames_round_trip_between_the_stdlib_and_the_fast_codec() -> None:
    message = {"type": "result", "ok": True, "payload": {"statusCode": 200, "body": "{}"}, "modules": []}
    for dumps, loads in ((fastjson.dumps, json.loads), (json.dumps, fastjson.loads)):
        data = encode(message, dumps) if dumps is fastjson.dumps else encode(message)
        assert FrameBuffer(loads).feed(data) == message
