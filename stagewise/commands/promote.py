"""`stagewise promote SRC DST [--yes] [--json] [--local]`: DST gets exactly SRC's live build."""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.config import load_project
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


def promote(
    source: Annotated[str, typer.Argument(help="Stage whose live build is promoted (e.g. dev).")],
    destination: Annotated[str, typer.Argument(help="Stage that receives it (e.g. prod).")],
    yes: YesOption = False,
    as_json: JsonOption = False,
    local: LocalOption = False,
    force_unlock: ForceUnlockOption = False,
) -> None:
    """Deploy SRC's live build to DST: same artifacts, templates rendered for DST, after showing the plan.

    Example:  stagewise promote dev prod          (shows every change in prod, then asks)
    """
    from stagewise.pipeline.promote import promote as run_promote
    from stagewise.pipeline.runner import Runner, open_stage
    from stagewise.secrets import SecretStore
    from stagewise.stacks.render import declared_secrets

    project = load_project()
    src = open_stage(project, project.stage(source), local=local)
    dst = open_stage(project, project.stage(destination), local=local)
    reporter = reporter_for(as_json)
    runner = Runner(dst, reporter=reporter, confirm=confirmer(yes=yes, as_json=as_json, reporter=reporter),
                    command=f"stagewise promote {source} {destination}")
    if force_unlock:
        runner.force_unlock(unlock_confirmer(yes))
    src.store.require_bootstrapped()
    SecretStore(dst.target.client("ssm"), project.app.name).resolve(dst.stage, declared_secrets(project, dst.stage))
    finish(run_promote(src, runner), as_json=as_json, reporter=reporter, endpoint=dst.target.endpoint)


def register(app: typer.Typer) -> None:
    app.command("promote")(promote)
