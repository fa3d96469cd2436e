"""`stagewise remove STAGE [--yes] [--force] [--json] [--local]`: delete every stack of a stage."""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.options import load_stage
from stagewise.pipeline.console import (
    ForceUnlockOption,
    JsonOption,
    LocalOption,
    YesOption,
    confirmer,
    finish,
    reporter_for,
    unlock_confirmer,
)


def remove(
    stage: Annotated[str, typer.Argument(help="Stage to remove (e.g. pr-42).")],
    yes: YesOption = False,
    force: Annotated[bool, typer.Option("--force", help="Allow removing a protected stage (you type its name).")] = False,
    as_json: JsonOption = False,
    local: LocalOption = False,
    force_unlock: ForceUnlockOption = False,
) -> None:
    """Remove every stack of a stage, importers first; lists retained tables and buckets and how to delete them.

    Example:  stagewise remove pr-42 --yes
    """
    from stagewise.pipeline.remover import guard_protected
    from stagewise.pipeline.runner import Runner, open_stage

    project, config = load_stage(stage)
    guard_protected(config, force=force, ask_name=lambda: typer.prompt(
        f"stage '{stage}' is protected; type its name to remove it", err=True))
    st = open_stage(project, config, local=local)
    reporter = reporter_for(as_json)
    runner = Runner(st, reporter=reporter, confirm=confirmer(yes=yes, as_json=as_json, reporter=reporter,
                                                             question=f"Remove every stack of {stage}?"),
                    command=f"stagewise remove {stage}")
    if force_unlock:
        runner.force_unlock(unlock_confirmer(yes))
    finish(runner.remove(), as_json=as_json, reporter=reporter, endpoint=st.target.endpoint)


def register(app: typer.Typer) -> None:
    app.command("remove")(remove)
