"""`stagewise deploy --stage S [--yes] [--json] [--local]`: build → secrets check → plan → apply.

Exit codes: 0 deployed (or nothing to do), 1 a stack failed (the stage keeps its last good build),
2 a problem to fix first (the message says what), 3 the stage is locked, 4 the plan was declined.
"""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.options import SetOption, load_stage
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


def deploy(
    stage: Annotated[str, typer.Option("--stage", "-s", help="Stage to deploy (dev, prod, pr-42, ...).")],
    yes: YesOption = False,
    as_json: JsonOption = False,
    local: LocalOption = False,
    force_unlock: ForceUnlockOption = False,
    set_: SetOption = None,
) -> None:
    """Build the app and deploy every changed stack of a stage, in export order.

    Example:  stagewise deploy --stage dev --yes

    Example:  stagewise deploy --stage pr-42 --local --json | jq '.stacks[] | {stack, outcome}'
    """
    from stagewise.pipeline.runner import Runner, open_stage
    from stagewise.pipeline.source import build_release
    from stagewise.secrets import SecretStore
    from stagewise.stacks.render import declared_secrets

    project, config = load_stage(stage, set_)
    st = open_stage(project, config, local=local)
    reporter = reporter_for(as_json)
    runner = Runner(st, reporter=reporter, confirm=confirmer(yes=yes, as_json=as_json, reporter=reporter),
                    command=f"stagewise deploy --stage {stage}")
    if force_unlock:
        runner.force_unlock(unlock_confirmer(yes))
    st.store.require_bootstrapped()
    SecretStore(st.target.client("ssm"), project.app.name).resolve(config, declared_secrets(project, config))
    release = build_release(project, config, account_id=st.target.account_id,
                            out_dir=project.root / ".stagewise" / "build")
    finish(runner.ship(release), as_json=as_json, reporter=reporter, endpoint=st.target.endpoint)


def register(app: typer.Typer) -> None:
    app.command("deploy")(deploy)
