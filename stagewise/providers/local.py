"""The local provider: the stagewise provisioner deploying into the local cloud.

Data flow: `plan` → Provisioner.plan (no writes) → its per-resource actions, minus UNCHANGED,
become the same `StackPlan` the aws provider returns. `apply` → Provisioner.deploy with an
event callback that forwards each ResourceEvent as a StackEvent; a ProvisionerError (the
provisioner has already rolled the stack back) becomes ApplyResult(ok=False).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stagewise.providers.base import (
    Action,
    ApplyResult,
    EventSink,
    PlanError,
    Provider,
    ResourceChange,
    StackEvent,
    StackHealth,
    StackPlan,
    export_blocked,
)
from stagewise.provisioner import Action as LocalAction
from stagewise.provisioner import Provisioner, ProvisionerError, ResourceEvent, StackStatus

ACTIONS = {LocalAction.ADD: Action.ADD, LocalAction.MODIFY: Action.MODIFY,
           LocalAction.REPLACE: Action.REPLACE, LocalAction.REMOVE: Action.REMOVE}
HEALTH = {
    StackStatus.CREATE_COMPLETE: StackHealth.READY,
    StackStatus.UPDATE_COMPLETE: StackHealth.READY,
    StackStatus.UPDATE_ROLLBACK_COMPLETE: StackHealth.READY,
    StackStatus.ROLLBACK_COMPLETE: StackHealth.FAILED_CREATE,
    StackStatus.CREATE_FAILED: StackHealth.FAILED_CREATE,
}


class LocalProvider(Provider):
    """Plans and applies through one Provisioner per call (each gets its own event callback)."""

    kind = "local"

    def __init__(self, client: Callable[[str], Any], *, account_id: str, region: str,
                 checkpoints: Path | None = None) -> None:
        lock = threading.Lock()

        def guarded(service: str) -> Any:  # boto3 client creation is not thread-safe
            with lock:
                return client(service)

        self._client = guarded
        self.account_id = account_id
        self.region = region
        self.checkpoints = checkpoints

    def _provisioner(self, on_event: EventSink | None = None) -> Provisioner:
        def forward(event: ResourceEvent) -> None:
            if on_event is not None:
                on_event(StackEvent(event.stack_name, event.logical_id, event.resource_type,
                                    str(event.status), event.reason))

        return Provisioner(self._client, account_id=self.account_id, region=self.region, on_event=forward,
                           checkpoints=self.checkpoints)

    def health(self, stack_name: str) -> tuple[StackHealth, str]:
        state = self._provisioner().describe(stack_name)
        if state is None:
            return StackHealth.ABSENT, ""
        # an IN_PROGRESS stack here was interrupted (Ctrl-C, kill -9): the provisioner resumes from its state
        return HEALTH.get(state.status, StackHealth.BUSY), str(state.status)

    def outputs(self, stack_name: str) -> dict[str, str]:
        state = self._provisioner().describe(stack_name)
        return dict(state.outputs) if state else {}

    def physical_ids(self, stack_name: str) -> dict[str, str]:
        state = self._provisioner().describe(stack_name)
        return {lid: r.physical_id for lid, r in state.resources.items()} if state else {}

    def plan(self, stack_name: str, template: dict[str, Any], parameters: dict[str, str]) -> StackPlan:
        try:
            planned = self._provisioner().plan(stack_name, template, parameters)
        except ProvisionerError as exc:
            raise PlanError(f"stack {stack_name}: {exc}", blocked=export_blocked(str(exc))) from exc
        changes = tuple(
            ResourceChange(ACTIONS[c.action], c.logical_id, c.resource_type, c.replacement_property or "")
            for c in planned.changes if c.action in ACTIONS
        )
        handle = {"template": template, "parameters": parameters, "outputs_changed": planned.outputs_changed}
        creating = planned.is_new
        if not changes and not creating and planned.outputs_changed:
            changes = (ResourceChange(Action.MODIFY, "Outputs", "Outputs"),)
        return StackPlan(stack_name, changes, creating=creating, handle=handle)

    def apply(self, plan: StackPlan, on_event: EventSink) -> ApplyResult:
        if plan.empty:
            return ApplyResult(plan.stack_name, ok=True, status="NO_CHANGES")
        try:
            state = self._provisioner(on_event).deploy(
                plan.stack_name, plan.handle["template"], plan.handle["parameters"])
        except ProvisionerError as exc:
            _, status = self.health(plan.stack_name)
            return ApplyResult(plan.stack_name, ok=False, status=status or "ROLLBACK_COMPLETE", reason=str(exc))
        return ApplyResult(plan.stack_name, ok=True, status=str(state.status), outputs=dict(state.outputs))

    def discard(self, plan: StackPlan) -> None:
        """A local plan holds nothing in the cloud."""

    def delete(self, stack_name: str, on_event: EventSink) -> ApplyResult:
        try:
            self._provisioner(on_event).delete(stack_name)
        except ProvisionerError as exc:
            return ApplyResult(stack_name, ok=False, status="DELETE_FAILED", reason=str(exc))
        return ApplyResult(stack_name, ok=True, status="DELETE_COMPLETE")
