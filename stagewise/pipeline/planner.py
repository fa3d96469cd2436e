"""The stage plan: for every stack of a change, what will happen — the one plan `diff` shows and
`deploy` executes.

Data flow: the new stacks (StackEntry per stack name), the live pointer (fingerprints) and the
live templates → `order.phases` → per deploy step: a stack whose fingerprint equals the live one
and whose status is healthy is SKIP (one read call, never a write); otherwise the provider plans
it (a StackPlan: per-resource add / modify / replace / remove). A plan that cannot be made yet
because it imports an export a changing stack of an earlier phase adds is DEFER (planned when its
turn comes); any other plan error names the stack and stops everything before a single change.
The new templates' own graph is checked first (`stacks.graph.deploy_phases`): a cycle or an
import of this stage that no stack exports is refused before any call.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from stagewise.pipeline.history import LivePointer, StackEntry
from stagewise.pipeline.order import Op, Step, phases
from stagewise.providers.base import PlanError, Provider, StackHealth, StackPlan
from stagewise.stacks.graph import deploy_phases

WORKERS = 4
OptionsFor = Callable[[str, StackEntry], Any]  # (stack, entry) -> the provider's StackOptions


class Decision(enum.StrEnum):
    SKIP = "unchanged"  # same fingerprint as live: no call but one read
    NO_CHANGES = "no changes"  # the provider found nothing to change
    APPLY = "apply"
    DEFER = "plan after dependencies"
    REMOVE = "remove"


CHANGING = frozenset({Decision.APPLY, Decision.DEFER, Decision.REMOVE})


@dataclass(frozen=True)
class PlannedStack:
    step: Step
    decision: Decision
    entry: StackEntry | None
    plan: StackPlan | None = None
    note: str = ""
    options: Any = None  # tags and protection, for a plan made later (DEFER)


@dataclass(frozen=True)
class StagePlan:
    stage: str
    phases: tuple[tuple[PlannedStack, ...], ...]

    @property
    def stacks(self) -> list[PlannedStack]:
        return [planned for phase in self.phases for planned in phase]

    @property
    def has_work(self) -> bool:
        return any(p.decision in CHANGING for p in self.stacks)


def make_plan(
    provider: Provider,
    *,
    stage: str,
    new: Mapping[str, StackEntry],
    live: LivePointer,
    live_templates: Mapping[str, Mapping[str, Any]],
    options_for: OptionsFor | None = None,
) -> StagePlan:
    """Plan every step; on a plan error, discard what was planned and re-raise (nothing touched)."""
    templates = {stack: entry.template for stack, entry in new.items()}
    deploy_phases(templates)  # validates the new graph: names a cycle or an import nobody exports
    planned_phases: list[tuple[PlannedStack, ...]] = []
    changing: set[str] = set()
    try:
        for steps in phases(templates, live_templates):
            with ThreadPoolExecutor(max_workers=WORKERS) as pool:
                done = list(pool.map(lambda s: _plan_step(provider, s, new, live, changing, options_for), steps))
            changing.update(p.step.stack for p in done if p.decision in CHANGING)
            planned_phases.append(tuple(done))
    except PlanError:
        discard(provider, [p for phase in planned_phases for p in phase])
        raise
    return StagePlan(stage, tuple(planned_phases))


def _plan_step(
    provider: Provider, step: Step, new: Mapping[str, StackEntry], live: LivePointer, changing: set[str],
    options_for: OptionsFor | None,
) -> PlannedStack:
    health, status = provider.health(step.stack)
    if step.op is Op.REMOVE:
        if health is StackHealth.ABSENT:
            return PlannedStack(step, Decision.SKIP, None, note="already removed")
        return PlannedStack(step, Decision.REMOVE, None)
    entry = new[step.stack]
    if live.fingerprints.get(step.stack) == entry.fingerprint and health is StackHealth.READY:
        return PlannedStack(step, Decision.SKIP, entry)
    note = f"left {status} by an interrupted or failed operation" if health in (
        StackHealth.BUSY, StackHealth.FAILED_CREATE) else ""
    options = options_for(step.stack, entry) if options_for else None
    try:
        plan = provider.plan(step.stack, entry.template, entry.parameters, options)
    except PlanError as exc:
        waiting = sorted(step.needs & changing)
        if not (exc.blocked and waiting):
            raise
        return PlannedStack(step, Decision.DEFER, entry, note=f"waits for {', '.join(waiting)} ({exc})",
                            options=options)
    decision = Decision.NO_CHANGES if plan.empty else Decision.APPLY
    return PlannedStack(step, decision, entry, plan, note, options)


def discard(provider: Provider, planned: list[PlannedStack]) -> None:
    """Drop the provider-side plans (change sets) of a plan that will not run."""
    for item in planned:
        if item.plan is not None and not item.plan.empty:
            provider.discard(item.plan)
