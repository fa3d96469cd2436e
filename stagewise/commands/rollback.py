"""`stagewise rollback STAGE [--to BUILD] [--yes] [--json] [--local]`: redeploy an earlier good build."""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.options import load_stage
from stagewise.pipeline.cli_support import ShipFlags, ship_and_report, shipping_command


@shipping_command
def rollback(
    stage: Annotated[str, typer.Argument(help="Stage to roll back.")],
    to: Annotated[str | None, typer.Option("--to", help="Build id (see `stagewise builds STAGE`); "
                                            "default: the last successful build before the live one.")] = None,
    *,
    flags: ShipFlags,
) -> None:
    """Redeploy an earlier SUCCEEDED build without rebuilding; stacks dropping an export in use go last.

    Example:  stagewise rollback prod --to b-20260101120000312-1a2b3c4 --yes
    """
    from stagewise.pipeline.rollback import rollback as run_rollback
    from stagewise.pipeline.runner import Runner, open_stage

    project, config = load_stage(stage)
    st = open_stage(project, config, local=flags.local)

    def run(runner: Runner):
        st.store.require_bootstrapped()
        return run_rollback(runner, to)

    ship_and_report(st, flags, command=f"stagewise rollback {stage}", run=run)


def register(app: typer.Typer) -> None:
    app.command("rollback")(rollback)
