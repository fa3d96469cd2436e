"""`stagewise promote SRC DST [--yes] [--json] [--local]`: DST gets exactly SRC's live build.

DST's templates are rendered from the working tree, so promote refuses (exit 2, nothing touched)
unless that tree is SRC's build commit and clean; see stagewise.pipeline.promote.
"""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.pipeline.cli_support import ShipFlags, require_secrets, ship_and_report, shipping_command


@shipping_command
def promote(
    source: Annotated[str, typer.Argument(help="Stage whose live build is promoted (e.g. dev).")],
    destination: Annotated[str, typer.Argument(help="Stage that receives it (e.g. prod).")],
    *,
    flags: ShipFlags,
) -> None:
    """Deploy SRC's live build to DST: same artifacts, templates rendered for DST, after showing the plan.

    Run it from a clean checkout of the commit SRC's build was made from (see stagewise builds SRC).

    Example:  stagewise promote dev prod          (shows every change in prod, then asks)
    """
    from stagewise.config import load_project
    from stagewise.pipeline.promote import promote as run_promote
    from stagewise.pipeline.runner import Runner, open_stage

    project = load_project()
    src = open_stage(project, project.stage(source), local=flags.local)
    dst = open_stage(project, project.stage(destination), local=flags.local)

    def run(runner: Runner):
        src.store.require_bootstrapped()
        require_secrets(dst)
        return run_promote(src, runner)

    ship_and_report(dst, flags, command=f"stagewise promote {source} {destination}", run=run)


def register(app: typer.Typer) -> None:
    app.command("promote")(promote)
