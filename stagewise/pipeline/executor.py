"""Executing a stage plan: phases in order, the stacks of one phase in parallel (bounded).

Data flow: StagePlan → for each phase, each PlannedStack runs in a worker: SKIP / NO_CHANGES do
nothing, APPLY hands its StackPlan to `provider.apply`, DEFER plans first and then applies,
REMOVE deletes → a StackOutcome per stack, reported to the `Reporter` as it happens (with the
provider's resource events in between). A failed stack was rolled back by its provider; every
stack of a later phase is then NOT_RUN, with the failed dependency (or the failed phase) named.
"""

from __future__ import annotations

import enum
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from stagewise.pipeline.planner import Decision, PlannedStack, StagePlan
from stagewise.providers.base import ApplyResult, PlanError, Provider, ProviderError, StackEvent

WORKERS = 4


class Outcome(enum.StrEnum):
    DEPLOYED = "deployed"
    SKIPPED = "skipped"
    FAILED = "failed"
    NOT_RUN = "not-run"
    REMOVED = "removed"


@dataclass(frozen=True)
class StackOutcome:
    stack: str
    phase: int
    outcome: Outcome
    seconds: float = 0.0
    reason: str = ""
    outputs: tuple[tuple[str, str], ...] = ()


class Reporter(Protocol):
    def started(self, planned: PlannedStack) -> None: ...
    def event(self, event: StackEvent) -> None: ...
    def finished(self, outcome: StackOutcome) -> None: ...


def execute(provider: Provider, plan: StagePlan, reporter: Reporter, *, workers: int = WORKERS) -> list[StackOutcome]:
    outcomes: list[StackOutcome] = []
    failed: list[str] = []
    for phase in plan.phases:
        if failed:
            outcomes += [_not_run(planned, failed) for planned in phase]
            for outcome in outcomes[-len(phase):]:
                reporter.finished(outcome)
            continue
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(lambda p: _run(provider, p, reporter), phase))
        outcomes += done
        failed += [o.stack for o in done if o.outcome is Outcome.FAILED]
    return outcomes


def _not_run(planned: PlannedStack, failed: list[str]) -> StackOutcome:
    culprits = sorted(planned.step.needs & set(failed)) or failed
    return StackOutcome(planned.step.stack, planned.step.phase, Outcome.NOT_RUN,
                        reason=f"not run: {', '.join(culprits)} failed")


def _run(provider: Provider, planned: PlannedStack, reporter: Reporter) -> StackOutcome:
    step = planned.step
    if planned.decision in (Decision.SKIP, Decision.NO_CHANGES):
        outcome = StackOutcome(step.stack, step.phase, Outcome.SKIPPED, reason=planned.decision.value)
        reporter.finished(outcome)
        return outcome
    reporter.started(planned)
    began = time.monotonic()
    result = _apply(provider, planned, reporter)
    seconds = round(time.monotonic() - began, 3)
    if not result.ok:
        outcome = StackOutcome(step.stack, step.phase, Outcome.FAILED, seconds, result.reason or result.status)
    elif result.status == "NO_CHANGES":
        outcome = StackOutcome(step.stack, step.phase, Outcome.SKIPPED, seconds, Decision.NO_CHANGES.value)
    else:
        kind = Outcome.REMOVED if planned.decision is Decision.REMOVE else Outcome.DEPLOYED
        outcome = StackOutcome(step.stack, step.phase, kind, seconds, outputs=tuple(sorted(result.outputs.items())))
    reporter.finished(outcome)
    return outcome


def _apply(provider: Provider, planned: PlannedStack, reporter: Reporter) -> ApplyResult:
    stack = planned.step.stack
    try:
        if planned.decision is Decision.REMOVE:
            return provider.delete(stack, reporter.event)
        plan = planned.plan
        if planned.decision is Decision.DEFER or plan is None:
            entry = planned.entry
            if entry is None:
                raise PlanError(f"stack {stack}: nothing to deploy")
            plan = provider.plan(stack, entry.template, entry.parameters, planned.options)
        return provider.apply(plan, reporter.event)
    except ProviderError as exc:  # PlanError, or a call the provider could not make
        return ApplyResult(stack, ok=False, status="PLAN_FAILED", reason=str(exc))
