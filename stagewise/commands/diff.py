"""`stagewise diff --stage S [--local] [--json]`: the plan `deploy` would execute, shown, not run."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from stagewise.options import JsonOption, LocalOption, SetOption, load_stage


def diff(
    stage: Annotated[str, typer.Option("--stage", "-s", help="Stage to compare with.")],
    as_json: JsonOption = False,
    local: LocalOption = False,
    set_: SetOption = None,
) -> None:
    """Show, per stack, what a deploy would add / modify / replace (and why) / remove.

    Example:  stagewise diff --stage prod
    """
    from stagewise.pipeline.console import show_plan
    from stagewise.pipeline.progress import QuietProgress
    from stagewise.pipeline.runner import Runner, open_stage
    from stagewise.pipeline.source import build_release

    project, config = load_stage(stage, set_)
    st = open_stage(project, config, local=local)
    runner = Runner(st, reporter=QuietProgress(), confirm=lambda plan: False, command=f"stagewise diff --stage {stage}")
    st.store.require_bootstrapped()
    release = build_release(project, config, account_id=st.target.account_id,
                            out_dir=project.root / ".stagewise" / "build")
    plan = runner.diff(release)
    if as_json:
        print(json.dumps(plan_json(plan), indent=2))
    else:
        show_plan(plan)


def plan_json(plan) -> dict:
    return {"stage": plan.stage, "stacks": [
        {"stack": p.step.stack, "phase": p.step.phase + 1, "decision": p.decision.value, "note": p.note,
         "changes": [{"action": c.action.value, "logical_id": c.logical_id, "type": c.resource_type,
                      "replacement_forced_by": c.replaced_by} for c in (p.plan.changes if p.plan else ())]}
        for p in plan.stacks]}


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)
