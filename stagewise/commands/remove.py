"""`stagewise remove STAGE | --pr N | --branch B [--yes] [--force] [--json] [--local]`: delete every stack of a stage."""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.commands.stage_name import BranchOption, PrOption, resolve_stage
from stagewise.options import load_stage
from stagewise.pipeline.cli_support import ShipFlags, ship_and_report, shipping_command


@shipping_command
def remove(
    stage: Annotated[str | None, typer.Argument(help="Stage to remove (e.g. pr-42).", show_default=False)] = None,
    pr: PrOption = None,
    branch: BranchOption = None,
    force: Annotated[bool, typer.Option("--force", help="Allow removing a protected stage (you type its name).")] = False,
    *,
    flags: ShipFlags,
) -> None:
    """Remove every stack of a stage, importers first; lists retained tables and buckets and how to delete them.

    Give exactly one of STAGE, --pr or --branch (the same name deploy --pr / --branch used).

    Example:  stagewise remove pr-42 --yes

    Example:  stagewise remove --branch feature/login --yes
    """
    from stagewise.pipeline.remover import guard_protected
    from stagewise.pipeline.runner import open_stage

    name = resolve_stage(stage, pr, branch, stage_flag="STAGE")
    project, config = load_stage(name)
    guard_protected(config, force=force, ask_name=lambda: typer.prompt(
        f"stage '{name}' is protected; type its name to remove it", err=True))
    st = open_stage(project, config, local=flags.local)
    ship_and_report(st, flags, command=f"stagewise remove {name}", run=lambda runner: runner.remove(),
                    question=f"Remove every stack of {name}?")


def register(app: typer.Typer) -> None:
    app.command("remove")(remove)
