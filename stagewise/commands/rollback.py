"""`stagewise rollback STAGE [--to BUILD] [--yes] [--json] [--local]`: redeploy an earlier good build."""

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


def rollback(
    stage: Annotated[str, typer.Argument(help="Stage to roll back.")],
    to: Annotated[str | None, typer.Option("--to", help="Build id (see `stagewise builds STAGE`); "
                                            "default: the last successful build before the live one.")] = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
    local: LocalOption = False,
    force_unlock: ForceUnlockOption = False,
) -> None:
    """Redeploy an earlier SUCCEEDED build without rebuilding; stacks dropping an export in use go last.

    Example:  stagewise rollback prod --to b-20260101120000312-1a2b3c4 --yes
    """
    from stagewise.pipeline.rollback import rollback as run_rollback
    from stagewise.pipeline.runner import Runner, open_stage

    project, config = load_stage(stage)
    st = open_stage(project, config, local=local)
    reporter = reporter_for(as_json)
    runner = Runner(st, reporter=reporter, confirm=confirmer(yes=yes, as_json=as_json, reporter=reporter),
                    command=f"stagewise rollback {stage}")
    if force_unlock:
        runner.force_unlock(unlock_confirmer(yes))
    st.store.require_bootstrapped()
    finish(run_rollback(runner, to), as_json=as_json, reporter=reporter, endpoint=st.target.endpoint)


def register(app: typer.Typer) -> None:
    app.command("rollback")(rollback)
