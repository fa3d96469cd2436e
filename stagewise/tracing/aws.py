"""The same views on a deployed stage: X-Ray (`GetTraceSummaries`, `BatchGetTraces`) and CloudWatch Logs
(`FilterLogEvents`), read with the stage's credentials (`target.client`).

Data flow: `recent_traces(client, since, last, errors)` → summaries of the window (newest first,
`fault = true OR error = true` with `errors`) → their documents, 5 ids per BatchGetTraces (its limit)
→ `Trace`s; `one_trace(client, id)` → a `Trace`, or a one-line error (exit 1) when X-Ray has none.
`log_lines(logs, group, since, trace)` pages FilterLogEvents (the trace id as a quoted term: Powertools
writes it in every line); `follow` polls from the last event seen. An AccessDenied becomes one line that
names the missing action.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from stagewise.errors import UserError
from stagewise.tracing.logs import LogLine
from stagewise.tracing.model import Trace

BATCH = 5  # BatchGetTraces takes at most 5 ids
WINDOW = timedelta(hours=24)  # GetTraceSummaries' longest window
POLL_S = 2.0
_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def call(service: str, action: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
    from botocore.exceptions import ClientError

    try:
        return fn(**kwargs)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _DENIED:
            raise UserError(f"no permission for {service}:{action} with this stage's credentials; "
                            f"grant it to the role you deploy with", exit_code=1) from exc
        raise UserError(f"{service}:{action} failed: {code}: {exc.response.get('Error', {}).get('Message', '')}",
                        exit_code=1) from exc


def _documents(xray: Any, trace_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    import json

    found: dict[str, list[dict[str, Any]]] = {}
    for at in range(0, len(trace_ids), BATCH):
        reply = call("xray", "BatchGetTraces", xray.batch_get_traces, TraceIds=trace_ids[at:at + BATCH])
        for trace in reply.get("Traces") or []:
            found[trace["Id"]] = [json.loads(s["Document"]) for s in trace.get("Segments") or []]
    return found


def recent_traces(xray: Any, *, since: float | None, last: int, errors: bool) -> list[Trace]:
    end = datetime.now(UTC)
    start = max(datetime.fromtimestamp(since, UTC), end - WINDOW) if since else end - timedelta(minutes=10)
    kwargs: dict[str, Any] = {"StartTime": start, "EndTime": end, "Sampling": False}
    if errors:
        kwargs["FilterExpression"] = "fault = true OR error = true"
    summaries: list[dict[str, Any]] = []
    while True:
        reply = call("xray", "GetTraceSummaries", xray.get_trace_summaries, **kwargs)
        summaries += reply.get("TraceSummaries") or []
        if not reply.get("NextToken"):
            break
        kwargs["NextToken"] = reply["NextToken"]
    newest = sorted(summaries, key=lambda s: s.get("StartTime") or s.get("ResponseTime") or 0, reverse=True)
    ids = [s["Id"] for s in newest[:last]]
    documents = _documents(xray, ids)
    return [Trace(trace_id, documents[trace_id]) for trace_id in ids if documents.get(trace_id)]


def one_trace(xray: Any, trace_id: str, *, stage: str) -> Trace:
    documents = _documents(xray, [trace_id]).get(trace_id)
    if not documents:
        raise UserError(f"X-Ray has no trace {trace_id} for stage {stage} (traces are kept 30 days); "
                        f"`stagewise traces --stage {stage}` lists the recent ones", exit_code=1)
    return Trace(trace_id, documents)


def log_lines(logs: Any, *, group: str, function: str, since: float | None, trace: str | None,
              after_ids: set[str] | None = None) -> list[LogLine]:
    kwargs: dict[str, Any] = {"logGroupName": group}
    if since:
        kwargs["startTime"] = int(since * 1000)
    if trace:
        kwargs["filterPattern"] = f'"{trace}"'
    lines = []
    while True:
        reply = call("logs", "FilterLogEvents", logs.filter_log_events, **kwargs)
        for event in reply.get("events") or []:
            if after_ids is not None:
                if event["eventId"] in after_ids:
                    continue
                after_ids.add(event["eventId"])
            lines.append(LogLine(time=event["timestamp"] / 1000, function=function,
                                 line=event["message"].rstrip("\n"), trace=trace))
        if not reply.get("nextToken"):
            return lines
        kwargs["nextToken"] = reply["nextToken"]


def follow(logs: Any, *, group: str, function: str, since: float | None, trace: str | None) -> Iterator[LogLine]:
    """Every new line, polled every POLL_S, until interrupted."""
    seen: set[str] = set()
    start = since or time.time()
    while True:
        for line in log_lines(logs, group=group, function=function, since=start, trace=trace, after_ids=seen):
            start = max(start, line.time)
            yield line
        time.sleep(POLL_S)
