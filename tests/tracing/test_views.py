"""Segment documents → waterfall rows, the terminal and HTML views, logs, and the --since window."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from stagewise.errors import UserError
from stagewise.tracing import render
from stagewise.tracing.logs import FunctionLogs, LogLine
from stagewise.tracing.model import Trace
from stagewise.tracing.segments import Invocation, TraceHeader, function_segment
from stagewise.tracing.since import since_epoch

T0 = 1_700_000_000.0
ROOT = "1-6553f100-0123456789abcdef01234567"


def documents() -> list[dict]:
    """A gateway segment, a cold function segment, and a subsegment the SDK streamed on its own."""
    gateway = {"trace_id": ROOT, "id": "a" * 16, "name": "api/local", "origin": "AWS::ApiGateway::Stage",
               "start_time": T0, "end_time": T0 + 0.5,
               "http": {"request": {"method": "POST", "url": "https://x/local/billing"}, "response": {"status": 502}},
               "fault": True}
    call = Invocation(function_name="fn", arn="arn:aws:lambda:us-east-1:1:function:fn", request_id="r",
                      started=T0 + 0.01, ended=T0 + 0.49, init_s=0.2, fault="Runtime.ExitError")
    function = function_segment(TraceHeader(ROOT, "a" * 16, True), segment_id="b" * 16, call=call)
    streamed = {"trace_id": ROOT, "id": "c" * 16, "parent_id": "b" * 16, "type": "subsegment", "name": "dynamodb",
                "namespace": "aws", "aws": {"operation": "PutItem"}, "start_time": T0 + 0.3, "end_time": T0 + 0.35,
                "http": {"response": {"status": 200}}}
    return [streamed, function, gateway]


def test_rows_follow_the_call_tree_in_time_order() -> None:
    rows = Trace(ROOT, documents()).rows
    assert [(r.depth, r.name) for r in rows] == [(0, "api/local"), (1, "fn"), (2, "Initialization"),
                                                 (2, "Invocation"), (2, "dynamodb")]
    assert rows[0].operation == "POST /local/billing" and rows[0].status == 502 and rows[0].fault
    assert rows[4].operation == "PutItem" and rows[4].offset_ms == pytest.approx(300, abs=0.01)
    assert rows[2].duration_ms == pytest.approx(200, abs=0.01)
    assert Trace(ROOT, documents()).summary()["fault"] is True


def test_terminal_and_html_waterfalls_show_the_same_rows() -> None:
    console = Console(width=200, record=True, color_system="standard", force_terminal=True, highlight=False,
                      file=io.StringIO())
    render.print_trace(Trace(ROOT, documents()), console)
    text = console.export_text(styles=True)
    assert "Initialization" in text and "PutItem" in text and "502" in text
    assert "\x1b[31mapi/local" in text  # the fault is red
    page = render.html_trace(Trace(ROOT, documents()))
    assert page.count("<tr") == 6 and 'class="fault"' in page and "PutItem" in page
    assert "<script" not in page


def test_html_escapes_what_the_segments_say() -> None:
    docs = documents()
    docs[2]["name"] = "<img src=x onerror=alert(1)>"
    assert "<img" not in render.html_trace(Trace(ROOT, docs))


def test_function_logs_rotate_and_filter_by_trace(tmp_path) -> None:
    logs = FunctionLogs(tmp_path, max_bytes=600)
    structured = json.dumps({"level": "INFO", "message": "charged", "amount": 4000, "xray_trace_id": ROOT})
    logs.write("Billing", "local-billing", structured, trace=None)
    for n in range(20):
        logs.write("Billing", "local-billing", f"plain line {n}", trace="Root=1-other;Parent=x;Sampled=1")
    assert logs.resolve("local-billing") == "Billing" and logs.resolve("Billing") == "Billing"
    assert logs.resolve("Nope") is None
    kept = logs.read("Billing")
    assert kept[-1].line == "plain line 19" and len(kept) < 21  # rotated: the oldest file dropped
    assert len(list(tmp_path.glob("Billing*.jsonl"))) <= 3
    assert all(line.trace_id == "1-other" for line in logs.read("Billing", trace="1-other"))


def test_a_structured_line_prints_level_message_and_extra_keys() -> None:
    line = LogLine(time=T0, function="f", line=json.dumps({"level": "INFO", "message": "charged", "amount": 4000,
                                                            "timestamp": "t", "xray_trace_id": ROOT}))
    assert line.pretty().endswith("INFO    charged  amount=4000")
    assert line.trace_id == ROOT
    assert LogLine(time=T0, function="f", line="Traceback (most recent call last):").pretty().endswith("Traceback (most recent call last):")


def test_since_takes_a_number_and_a_unit() -> None:
    assert since_epoch("10m", now=1000.0) == 400.0
    assert since_epoch("2h", now=10_000.0) == 2800.0
    assert since_epoch(None) is None
    for bad in ("10", "m", "-5m", "10 minutes"):
        with pytest.raises(UserError, match="--since takes a number and a unit"):
            since_epoch(bad)


def test_the_console_shows_a_logged_exceptions_traceback_readable() -> None:
    from stagewise.tracing.logs import console_text

    logged = json.dumps({"level": "ERROR", "message": "unhandled error", "function_request_id": "r-1",
                         "exception": "Traceback (most recent call last):\n  File \"api.py\", line 3\nKeyError: 'x'"})
    shown = console_text(logged)
    assert shown.splitlines() == ["ERROR unhandled error (request r-1)", "Traceback (most recent call last):",
                                  '  File "api.py", line 3', "KeyError: 'x'"]
    assert console_text('{"level": "INFO", "message": "charged"}') == '{"level": "INFO", "message": "charged"}'
