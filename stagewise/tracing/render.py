"""A trace as a waterfall, in the terminal (Rich) and as a plain HTML page, from the same `Trace.rows`.

Each row: the segment's name indented by depth, its service or namespace, operation, start offset,
duration, a bar placed on the trace's time line, status; faults (5xx, exceptions) red, errors (4xx)
yellow. The HTML page is served by `stagewise dev` at /_stagewise/traces (no script, no build step).
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from stagewise.tracing.model import Row, Trace

BAR_WIDTH = 32


def bar(row: Row, total_ms: float, width: int = BAR_WIDTH) -> str:
    """The row's span on a `width`-character time line of the whole trace."""
    total = max(total_ms, 1e-6)
    left = min(width - 1, int(row.offset_ms / total * width))
    length = width - left if row.duration_ms is None else max(1, round(row.duration_ms / total * width))
    return " " * left + "█" * min(length, width - left) + " " * max(0, width - left - length)


def _status(row: Row) -> str:
    if row.status is not None:
        return str(row.status)
    return "fault" if row.fault else "error" if row.error else "ok"


def _duration(row: Row) -> str:
    return "…" if row.duration_ms is None else f"{row.duration_ms:.1f} ms"


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


_KINDS = {"AWS::ApiGateway::Stage": "API Gateway", "AWS::Lambda::Function": "Lambda", "AWS::Lambda": "Lambda"}


def kind(row: Row) -> str:
    """The service of a segment, short: API Gateway, Lambda, or the SDK namespace (aws, remote, local)."""
    return _KINDS.get(row.kind, row.kind)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_trace(trace: Trace, console: Any) -> None:
    """One trace in full."""
    from rich.table import Table
    from rich.text import Text

    total = trace.duration_ms
    console.print(f"trace {trace.trace_id}  {_when(trace.start)}  {total:.1f} ms")
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    for column in ("segment", "service", "operation", "start ms", "duration", "timeline", "status", "annotations"):
        table.add_column(column, justify="right" if column in ("start ms", "duration") else "left",
                         no_wrap=column != "annotations", overflow="fold")
    for row in trace.rows:
        style = "red" if row.fault else "yellow" if row.error else None
        notes = " ".join(f"{k}={v}" for k, v in row.annotations.items())
        table.add_row(Text(_cut("  " * row.depth + row.name, 40), style=style), kind(row), _cut(row.operation, 48),
                      f"{row.offset_ms:.1f}", _duration(row), Text(bar(row, total), style=style or "cyan"),
                      Text(_status(row), style=style), notes)
    console.print(table)


def print_summaries(traces: list[Trace], console: Any) -> None:
    """Recent traces, one line each, newest first."""
    from rich.text import Text

    for trace in traces:
        summary = trace.summary()
        line = (f"{_when(summary['start'])}  {summary['trace_id']}  {summary['duration_ms']:>8.1f} ms  "
                f"{summary['status'] or '-':>5}  {summary['entry']}  {summary['operation']}")
        console.print(Text(line, style="red" if summary["fault"] else None))


_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title><style>
body{{font:13px ui-monospace,monospace;margin:1.5em}} table{{border-collapse:collapse}}
td,th{{padding:2px 8px;text-align:left;white-space:nowrap}} tr:hover{{background:#f3f3f3}}
.line{{position:relative;width:420px;height:12px;background:#f5f5f5}}
.bar{{position:absolute;top:1px;height:10px;background:#3a7bd5}} .fault{{color:#c00}} .fault .bar{{background:#c00}}
.error{{color:#8a6d00}} .error .bar{{background:#d4a000}} a{{color:#135}}
</style></head><body><h1>{title}</h1>{body}</body></html>"""


def html_trace(trace: Trace) -> str:
    total = max(trace.duration_ms, 1e-6)
    rows = []
    for row in trace.rows:
        left = row.offset_ms / total * 100
        width = 100 - left if row.duration_ms is None else max(0.3, row.duration_ms / total * 100)
        css = "fault" if row.fault else "error" if row.error else ""
        notes = " ".join(f"{k}={v}" for k, v in row.annotations.items())
        rows.append(
            f'<tr class="{css}"><td style="padding-left:{8 + row.depth * 16}px">{html.escape(row.name)}</td>'
            f"<td>{html.escape(kind(row))}</td><td>{html.escape(row.operation[:60])}</td>"
            f'<td style="text-align:right">{row.offset_ms:.1f}</td><td style="text-align:right">{_duration(row)}</td>'
            f'<td><div class="line"><div class="bar" style="left:{left:.2f}%;width:{width:.2f}%"></div></div></td>'
            f"<td>{html.escape(_status(row))}</td><td>{html.escape(notes)}</td></tr>")
    head = "<tr><th>segment</th><th>service</th><th>operation</th><th>start ms</th><th>duration</th>" \
           "<th>timeline</th><th>status</th><th>annotations</th></tr>"
    body = (f'<p><a href="/_stagewise/traces">all traces</a> · {_when(trace.start)} · {trace.duration_ms:.1f} ms</p>'
            f"<table>{head}{''.join(rows)}</table>")
    return _PAGE.format(title=f"trace {html.escape(trace.trace_id)}", body=body)


def html_summaries(traces: list[Trace]) -> str:
    rows = []
    for trace in traces:
        summary = trace.summary()
        css = "fault" if summary["fault"] else ""
        link = f'<a href="/_stagewise/traces/{html.escape(summary["trace_id"])}">{html.escape(summary["trace_id"])}</a>'
        rows.append(f'<tr class="{css}"><td>{_when(summary["start"])}</td><td>{link}</td>'
                    f'<td style="text-align:right">{summary["duration_ms"]:.1f} ms</td><td>{summary["status"] or "-"}</td>'
                    f'<td>{html.escape(summary["entry"])}</td><td>{html.escape(summary["operation"])}</td></tr>')
    body = "<p>no traces yet: call the API</p>" if not rows else (
        "<table><tr><th>time</th><th>trace</th><th>duration</th><th>status</th><th>entry</th><th>operation</th></tr>"
        + "".join(rows) + "</table>")
    return _PAGE.format(title="recent traces", body=body)
