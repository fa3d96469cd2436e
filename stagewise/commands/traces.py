"""`stagewise traces [ID] [--stage local] [--last N] [--since 10m] [--errors] [--json]`: recent traces as a
waterfall, or one trace in full.

Data flow: a local stage (`local`, `--local` or STAGEWISE_LOCAL=1) → the traces `stagewise dev` kept in the
local cloud's state dir (no running dev needed); any other stage → X-Ray with the stage's credentials
(stagewise/tracing/aws.py). `--json` prints the segment documents.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from stagewise.options import LocalOption, SetOption

WIDE = 200


def traces(
    trace_id: Annotated[str | None, typer.Argument(help="One trace id (1-5f84c7a9-…) to show in full.")] = None,
    stage: Annotated[str, typer.Option("--stage", "-s", help="Stage name; local reads stagewise dev's traces.")] = "local",
    last: Annotated[int, typer.Option("--last", "-n", min=1, max=1000, help="How many recent traces.")] = 20,
    since: Annotated[str | None, typer.Option("--since", help="Only traces that started within, e.g. 10m, 2h.")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Only traces with a fault or an error.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the traces' segment documents as JSON.")] = False,
    local: LocalOption = False,
    set_: SetOption = None,
) -> None:
    """Show recent traces as waterfalls (service, operation, start, duration, status), or one trace in full.

    Example:  stagewise traces --since 10m --errors      stagewise traces 1-5f84c7a9-0a2b3c4d5e6f7a8b9c0d1e2f
    """
    from rich.console import Console

    from stagewise.tracing import render
    from stagewise.tracing.since import since_epoch

    window = since_epoch(since)
    source = _source(stage, local, set_)
    found = [source.trace(trace_id)] if trace_id else source.recent(since=window, last=last, errors=errors)
    if as_json:
        print(json.dumps([{"trace_id": t.trace_id, **t.summary(), "documents": t.documents} for t in found], indent=2))
        return
    console = Console(highlight=False)
    if not console.is_terminal:
        console.width = WIDE  # a pipe or a file gets every column whole
    if not found:
        console.print("no traces" + (" with errors" if errors else "") + (f" in the last {since}" if since else ""))
        return
    if trace_id:
        render.print_trace(found[0], console)
        return
    render.print_summaries(found, console)
    console.print()
    render.print_trace(found[0], console)


class _XRaySource:
    def __init__(self, client, stage: str) -> None:
        self.client = client
        self.stage = stage

    def recent(self, *, since, last, errors):
        from stagewise.tracing.aws import recent_traces

        return recent_traces(self.client, since=since, last=last, errors=errors)

    def trace(self, trace_id):
        from stagewise.tracing.aws import one_trace

        return one_trace(self.client, trace_id, stage=self.stage)


def _source(stage: str, local: bool, overrides: list[str] | None):
    """Where the stage's traces are: the local store, or X-Ray."""
    from stagewise.options import load_stage
    from stagewise.target import target_for, wants_local

    project, config = load_stage(stage, overrides)
    if wants_local(stage, local):
        from stagewise.cloud import default_state_dir
        from stagewise.tracing.local import LocalTracing

        return LocalTracing.for_stage(default_state_dir(), config.name)
    return _XRaySource(target_for(project, config, local=False).client("xray"), config.name)


def register(app: typer.Typer) -> None:
    app.command("traces")(traces)
