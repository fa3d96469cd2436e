"""Text for humans: a StagePlan (what `diff` prints and `deploy` asks about) and a run's result.

Data flow: StagePlan / RunResult → lists of lines; the commands print them (Rich adds no colour
when the output is not a terminal). The same lines are used on AWS and locally.
"""

from __future__ import annotations

from stagewise.pipeline.planner import Decision, PlannedStack, StagePlan
from stagewise.pipeline.runner import RunResult
from stagewise.providers.base import Action

SYMBOL = {Action.ADD: "+", Action.MODIFY: "~", Action.REPLACE: "!", Action.REMOVE: "-"}


def plan_lines(plan: StagePlan) -> list[str]:
    changing = sum(1 for p in plan.stacks if p.decision not in (Decision.SKIP, Decision.NO_CHANGES))
    lines = [f"stage {plan.stage}: {len(plan.stacks)} stack(s) in {len(plan.phases)} phase(s), {changing} to change"]
    for index, phase in enumerate(plan.phases, start=1):
        lines.append(f"phase {index}")
        for planned in phase:
            lines += _stack_lines(planned)
    return lines


def _stack_lines(planned: PlannedStack) -> list[str]:
    what = planned.decision.value
    if planned.plan is not None and planned.decision is Decision.APPLY:
        what = "create" if planned.plan.creating else "update"
        if planned.plan.recreate:
            what = "delete the failed stack and create it again"
    note = f" — {planned.note}" if planned.note else ""
    lines = [f"  {planned.step.stack}: {what}{note}"]
    for change in planned.plan.changes if planned.plan else ():
        forced = f" (replacement forced by {change.replaced_by})" if change.replaced_by else ""
        lines.append(f"    {SYMBOL[change.action]} {change.action.value:<7} {change.logical_id} "
                     f"[{change.resource_type}]{forced}")
    return lines


def result_lines(result: RunResult) -> list[str]:
    lines = [f"{result.kind.value} {result.stage}: {result.state.value}"
             + (f" (build {result.build})" if result.build else "")]
    for outcome in result.outcomes:
        reason = f" — {outcome.reason}" if outcome.reason else ""
        lines.append(f"  phase {outcome.phase + 1}  {outcome.stack:<40} {outcome.outcome.value:<9} "
                     f"{outcome.seconds:6.1f}s{reason}")
    for retained in result.retained:
        lines.append(f"  retained: {retained.stack} {retained.logical_id} [{retained.resource_type}] "
                     f"{retained.physical_id}")
    return lines
