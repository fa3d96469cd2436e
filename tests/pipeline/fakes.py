"""A hand-written in-memory Provider: stacks are dicts, a plan is the set of changed resource ids."""

from __future__ import annotations

from typing import Any

from stagewise.providers.base import (
    Action,
    ApplyResult,
    EventSink,
    Provider,
    ResourceChange,
    StackEvent,
    StackHealth,
    StackPlan,
)


class FakeProvider(Provider):
    kind = "fake"

    def __init__(self, *, fail: set[str] | None = None, interrupt: set[str] | None = None) -> None:
        self.stacks: dict[str, dict[str, Any]] = {}
        self.fail = fail or set()
        self.interrupt = interrupt or set()
        self.applied: list[str] = []

    def health(self, stack_name: str) -> tuple[StackHealth, str]:
        return (StackHealth.READY, "UPDATE_COMPLETE") if stack_name in self.stacks else (StackHealth.ABSENT, "")

    def plan(self, stack_name: str, template: dict[str, Any], parameters: dict[str, str],
             options: Any = None) -> StackPlan:
        old = self.stacks.get(stack_name, {}).get("Resources", {})
        new = template.get("Resources", {})
        changes = [ResourceChange(Action.ADD if lid not in old else Action.MODIFY, lid, res["Type"])
                   for lid, res in sorted(new.items()) if old.get(lid) != res]
        changes += [ResourceChange(Action.REMOVE, lid, res["Type"]) for lid, res in sorted(old.items()) if lid not in new]
        return StackPlan(stack_name, tuple(changes), creating=stack_name not in self.stacks, handle=template)

    def apply(self, plan: StackPlan, on_event: EventSink) -> ApplyResult:
        if plan.stack_name in self.interrupt:
            raise KeyboardInterrupt
        if plan.stack_name in self.fail:
            return ApplyResult(plan.stack_name, ok=False, status="UPDATE_ROLLBACK_COMPLETE", reason="boom")
        self.stacks[plan.stack_name] = plan.handle
        self.applied.append(plan.stack_name)
        on_event(StackEvent(plan.stack_name, plan.stack_name, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE"))
        return ApplyResult(plan.stack_name, ok=True, status="UPDATE_COMPLETE")

    def discard(self, plan: StackPlan) -> None:
        """Nothing is held for a plan."""

    def delete(self, stack_name: str, on_event: EventSink) -> ApplyResult:
        self.stacks.pop(stack_name, None)
        return ApplyResult(stack_name, ok=True, status="DELETE_COMPLETE")

    def unprotect(self, stack_name: str) -> None:
        """Fake stacks are never protected."""

    def outputs(self, stack_name: str) -> dict[str, str]:
        return {}

    def physical_ids(self, stack_name: str) -> dict[str, str]:
        return {lid: f"{stack_name}-{lid}" for lid in self.stacks.get(stack_name, {}).get("Resources", {})}
