"""The deployed-stage views (X-Ray GetTraceSummaries/BatchGetTraces, CloudWatch Logs FilterLogEvents) read
through their real APIs, served here by the local cloud."""

from __future__ import annotations

import json
import time

import pytest

from stagewise.cloud import LocalCloud
from stagewise.errors import UserError
from stagewise.tracing import aws
from stagewise.tracing.segments import new_id, new_trace_id
from tests.cloud.conftest import cloud, make_client  # noqa: F401 - the running cloud fixture


def put_trace(xray, *, status: int) -> str:
    trace_id = new_trace_id()
    now = time.time() - 2  # ended a moment ago: inside the query's window
    gateway = {"trace_id": trace_id, "id": new_id(), "name": "api/dev", "origin": "AWS::ApiGateway::Stage",
               "start_time": now - 0.2, "end_time": now, "http": {"response": {"status": status}},
               **({"fault": True} if status >= 500 else {})}
    function = {"trace_id": trace_id, "id": new_id(), "parent_id": gateway["id"], "name": "fn",
                "origin": "AWS::Lambda::Function", "start_time": now - 0.15, "end_time": now - 0.01}
    xray.put_trace_segments(TraceSegmentDocuments=[json.dumps(gateway), json.dumps(function)])
    return trace_id


def test_recent_and_one_trace_from_xray(cloud: LocalCloud) -> None:  # noqa: F811
    xray = make_client(cloud, "xray")
    ok, failed = put_trace(xray, status=200), put_trace(xray, status=502)
    recent = aws.recent_traces(xray, since=time.time() - 60, last=10, errors=False)
    assert {t.trace_id for t in recent} == {ok, failed}
    trace = aws.one_trace(xray, failed, stage="dev")
    assert [(r.depth, r.name) for r in trace.rows] == [(0, "api/dev"), (1, "fn")] and trace.rows[0].fault
    with pytest.raises(UserError, match=r"X-Ray has no trace 1-00000000-000000000000000000000000") as raised:
        aws.one_trace(xray, "1-00000000-000000000000000000000000", stage="dev")
    assert raised.value.exit_code == 1


def test_log_lines_filtered_by_trace(cloud: LocalCloud) -> None:  # noqa: F811
    logs = make_client(cloud, "logs")
    group, trace_id = "/aws/lambda/dev-notes-billing", new_trace_id()
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)
    mine = json.dumps({"level": "INFO", "message": "charged", "xray_trace_id": trace_id})
    other = json.dumps({"level": "INFO", "message": "other", "xray_trace_id": new_trace_id()})
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": now, "message": mine}, {"timestamp": now + 1, "message": other}])
    lines = aws.log_lines(logs, group=group, function="dev-notes-billing", since=time.time() - 60, trace=trace_id)
    assert [line.structured["message"] for line in lines] == ["charged"]
    assert lines[0].trace_id == trace_id
