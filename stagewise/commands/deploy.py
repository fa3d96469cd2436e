"""`stagewise deploy --stage S | --pr N | --branch B [--yes] [--json] [--local]`: build → secrets check → plan → apply.

Exit codes: 0 deployed (or nothing to do), 1 a stack failed (the stage keeps its last good build),
2 a problem to fix first (the message says what), 3 the stage is locked, 4 the plan was declined.
"""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.commands.stage_name import BranchOption, PrOption, resolve_stage
from stagewise.options import SetOption, load_stage
from stagewise.pipeline.cli_support import ShipFlags, require_secrets, ship_and_report, shipping_command


@shipping_command
def deploy(
    stage: Annotated[str | None, typer.Option(
        "--stage", "-s", help="Stage to deploy (dev, prod, pr-42, ...).", show_default=False)] = None,
    pr: PrOption = None,
    branch: BranchOption = None,
    set_: SetOption = None,
    *,
    flags: ShipFlags,
) -> None:
    """Build the app and deploy every changed stack of a stage, in export order; prints the stage's URL.

    Give exactly one of --stage, --pr or --branch.

    Example:  stagewise deploy --stage dev --yes

    Example:  stagewise deploy --pr 42 --yes          (the pull request's stage, pr-42, on dev's infra)

    Example:  stagewise deploy --branch feature/login --local --json | jq '.stacks[] | {stack, outcome}'
    """
    from stagewise.pipeline.runner import Runner, open_stage
    from stagewise.pipeline.source import build_release

    name = resolve_stage(stage, pr, branch)
    project, config = load_stage(name, set_)
    st = open_stage(project, config, local=flags.local)

    def run(runner: Runner):
        st.store.require_bootstrapped()
        require_secrets(st)
        release = build_release(project, config, account_id=st.target.account_id,
                                out_dir=project.root / ".stagewise" / "build")
        return runner.ship(release)

    ship_and_report(st, flags, command=f"stagewise deploy --stage {name}", run=run)


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
