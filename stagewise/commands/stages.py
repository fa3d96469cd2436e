"""`stagewise stages [--json] [--local]`: every stage — named in stagewise.toml or found deployed — with
its account, live build, URL and last deploy."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from stagewise.errors import UserError
from stagewise.options import JsonOption, LocalOption

if TYPE_CHECKING:
    from stagewise.config import Project


def stages(as_json: JsonOption = False, local: LocalOption = False) -> None:
    """List the stages with account, live build, API URL and last deploy time.

    Example:  stagewise stages --json | jq -r '.[] | select(.live_build) | .name'
    """
    from stagewise.config import load_project

    rows = stage_rows(load_project(), local=local)
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        state = row.get("error") or f"{row['live_build'] or '-'}  {row['url'] or '-'}  {row['last_deploy'] or '-'}"
        print(f"{row['name']:<20} {row['account']:<10} {state}")


def stage_rows(project: Project, *, local: bool) -> list[dict[str, Any]]:
    from stagewise.pipeline.console import api_url
    from stagewise.pipeline.runner import open_stage

    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    names = [n for n in project.stages if n != "local" or local]
    while names:
        name = names.pop(0)
        if name in seen:
            continue
        seen.add(name)
        config = project.stage(name)
        row: dict[str, Any] = {"name": name, "account": config.account, "live_build": None, "url": None,
                               "last_deploy": None}
        try:
            st = open_stage(project, config, local=local)
            if st.store.bootstrapped():
                names += [n for n in st.history.stages() if n not in seen]
                pointer = st.history.live(name)
                row.update(live_build=pointer.build, last_deploy=pointer.updated_at or None,
                           url=api_url(st.provider, pointer.fingerprints))
        except UserError as exc:
            row["error"] = str(exc)
        rows.append(row)
    return rows


def register(app: typer.Typer) -> None:
    app.command("stages")(stages)
