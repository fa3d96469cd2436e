"""Segment documents of one trace → one waterfall: every segment and subsegment in call order.

Data flow: documents (full segments, and subsegments sent on their own with `type: subsegment` and
`parent_id`, as the X-Ray SDK streams them from Lambda) → nodes linked to their parent by id
(`parent_id` of a document, nesting of `subsegments`) → `Trace.rows`: depth-first by start time,
each with its service or namespace, operation, offset from the trace's start, duration, HTTP
status and flags. Local and AWS traces (BatchGetTraces gives the same documents) share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Row:
    depth: int
    name: str
    kind: str  # origin (AWS::Lambda::Function), namespace (aws, remote) or "" for local work
    operation: str
    offset_ms: float
    duration_ms: float | None  # None while in progress
    status: int | None
    fault: bool
    error: bool
    annotations: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    parent_id: str | None = None
    start: float = 0.0
    end: float | None = None


@dataclass
class _Node:
    doc: dict[str, Any]
    parent_id: str | None
    children: list[_Node] = field(default_factory=list)


@dataclass
class Trace:
    trace_id: str
    documents: list[dict[str, Any]]

    @property
    def rows(self) -> list[Row]:
        nodes: dict[str, _Node] = {}
        for doc in self.documents:
            _index(doc, doc.get("parent_id"), nodes)
        roots = []
        for node in nodes.values():
            parent = nodes.get(node.parent_id or "")
            (parent.children if parent is not None else roots).append(node)
        start = self.start
        rows: list[Row] = []
        for root in sorted(roots, key=_started):
            _walk(root, 0, start, rows)
        return rows

    @property
    def start(self) -> float:
        return min((d.get("start_time") or 0.0 for d in self.documents), default=0.0)

    @property
    def duration_ms(self) -> float:
        ends = [d.get("end_time") or d.get("start_time") or 0.0 for d in self.documents]
        return (max(ends, default=self.start) - self.start) * 1000

    @property
    def entry(self) -> Row | None:
        """The first segment: the request that started the trace."""
        rows = self.rows
        return rows[0] if rows else None

    @property
    def faulty(self) -> bool:
        return any(row.fault or row.error for row in self.rows)

    def summary(self) -> dict[str, Any]:
        entry = self.entry
        return {"trace_id": self.trace_id, "start": self.start, "duration_ms": round(self.duration_ms, 1),
                "entry": entry.name if entry else "", "operation": entry.operation if entry else "",
                "status": entry.status if entry else None, "fault": self.faulty, "segments": len(self.rows)}


def _index(doc: dict[str, Any], parent_id: str | None, nodes: dict[str, _Node]) -> None:
    node = _Node(doc, parent_id)
    nodes[doc["id"]] = node
    for child in doc.get("subsegments") or []:
        if isinstance(child, dict) and "id" in child:
            _index(child, doc["id"], nodes)


def _started(node: _Node) -> float:
    return node.doc.get("start_time") or 0.0


def _walk(node: _Node, depth: int, trace_start: float, rows: list[Row]) -> None:
    rows.append(_row(node, depth, trace_start))
    for child in sorted(node.children, key=_started):
        _walk(child, depth + 1, trace_start, rows)


def _row(node: _Node, depth: int, trace_start: float) -> Row:
    doc = node.doc
    start = doc.get("start_time") or trace_start
    end = doc.get("end_time")
    http = doc.get("http") or {}
    status = (http.get("response") or {}).get("status")
    return Row(
        depth=depth, name=str(doc.get("name", "")), kind=str(doc.get("origin") or doc.get("namespace") or ""),
        operation=_operation(doc), offset_ms=(start - trace_start) * 1000,
        duration_ms=None if end is None or doc.get("in_progress") else (end - start) * 1000,
        status=status if isinstance(status, int) else None, fault=bool(doc.get("fault")),
        error=bool(doc.get("error") or doc.get("throttle")), annotations=dict(doc.get("annotations") or {}),
        id=doc["id"], parent_id=node.parent_id, start=start, end=end,
    )


def _operation(doc: dict[str, Any]) -> str:
    aws = doc.get("aws") or {}
    if aws.get("operation"):
        return str(aws["operation"])
    request = (doc.get("http") or {}).get("request") or {}
    if request.get("method"):  # the host is the segment's name (a remote call) or the API's
        return f"{str(request['method']).upper()} {urlsplit(str(request.get('url', ''))).path}".strip()
    return ""
