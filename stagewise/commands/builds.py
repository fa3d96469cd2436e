"""`stagewise builds STAGE [--json] [--local]`: a stage's deploy history, newest last."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from stagewise.errors import UserError
from stagewise.options import JsonOption, LocalOption, load_stage


def builds(
    stage: Annotated[str, typer.Argument(help="Stage name.")],
    as_json: JsonOption = False,
    local: LocalOption = False,
) -> None:
    """List every deploy, promotion, rollback and removal of a stage with its result; `*` marks the live build.

    Example:  stagewise builds prod --json | jq -r '.[] | select(.result=="SUCCEEDED") | .id'
    """
    from stagewise.pipeline.runner import open_stage

    project, config = load_stage(stage)
    st = open_stage(project, config, local=local)
    st.store.require_bootstrapped()
    history = st.history
    records = history.records(stage)
    if not records:
        raise UserError(f"stage '{stage}' has no builds in account '{config.account}'; "
                        f"deploy it first: stagewise deploy --stage {stage}")
    live = history.live(stage).build
    rows = [{"id": r.id, "kind": r.kind.value, "result": r.result.value, "live": r.id == live,
             "commit": r.build.commit, "dirty": r.build.dirty, "created_at": r.build.created_at,
             "finished_at": r.finished_at, "source": r.source, "message": r.build.message} for r in records]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        commit = (row["commit"] or "no-git")[:10] + ("+dirty" if row["dirty"] else "")
        mark = "*" if row["live"] else " "
        source = f"  from {row['source']}" if row["source"] else ""
        print(f"{mark} {row['id']}  {row['kind']:<8} {row['result']:<9} {commit:<16} {row['created_at']}{source}")
        if row["message"]:
            print(f"    {row['message']}")


def register(app: typer.Typer) -> None:
    app.command("builds")(builds)
