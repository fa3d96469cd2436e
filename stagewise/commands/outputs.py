"""`stagewise outputs --stage S [--json]`: every stack output of a stage (API URL, pool ids, bucket, table)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from stagewise.options import SetOption


def outputs(
    stage: Annotated[str, typer.Option("--stage", "-s", help="Stage name.")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON: {stack: {output: value}}.")] = False,
    set_: SetOption = None,
) -> None:
    """Print every output of every stack of a stage.

    Example:  stagewise outputs --stage local --json | jq -r '.["local-notes-infra"].UserPoolId'
    """
    from stagewise.localstage import connect

    values = connect(stage, overrides=set_).outputs()
    if as_json:
        print(json.dumps(values, indent=2, sort_keys=True))
        return
    for stack, stack_outputs in values.items():
        print(stack)
        for key, value in sorted(stack_outputs.items()):
            print(f"  {key:<20} {value}")


def register(app: typer.Typer) -> None:
    app.command("outputs")(outputs)
