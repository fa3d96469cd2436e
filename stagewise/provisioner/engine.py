"""The local provisioner: deploy / plan / delete / describe CloudFormation templates in the local cloud.

Data flow of `deploy(stack, template, parameters)`:
    parse_template (validate everything, nothing touched)
    → bind parameters, evaluate conditions, load this stack's state and the export registry
    → make_plan (resolve and compare; no writes)  — this is what `plan()` returns
    → nothing changed? return the live state with zero write calls
    → Deployment.run (delete what an interrupted create left, then create / update / replace in
      order, cleanup, or roll back)
State lives in the local cloud (see store.py); the export registry is derived from it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagewise.provisioner.errors import DeployError
from stagewise.provisioner.events import ResourceEvent
from stagewise.provisioner.executor import Deployment, clear_leftover, delete_resource, now, reverse_order
from stagewise.provisioner.exports import ExportRegistry
from stagewise.provisioner.intrinsics import evaluate_conditions
from stagewise.provisioner.parameters import bind_parameters
from stagewise.provisioner.plan import Action, StackPlan, make_plan
from stagewise.provisioner.resources import ResourceContext
from stagewise.provisioner.scope import StackScope
from stagewise.provisioner.state import StackState, StackStatus
from stagewise.provisioner.store import StateStore
from stagewise.provisioner.template import parse_template

SETTLED = frozenset({StackStatus.CREATE_COMPLETE, StackStatus.UPDATE_COMPLETE})
FRESH = frozenset({StackStatus.ROLLBACK_COMPLETE, StackStatus.CREATE_FAILED})


@dataclass
class _Prepared:
    scope: StackScope
    old: StackState | None
    plan: StackPlan
    raw_parameters: dict[str, str]


class Provisioner:
    """Deploys plain CloudFormation JSON into the local cloud through `client(service)`."""

    def __init__(
        self,
        client: Callable[[str], Any],
        *,
        account_id: str,
        region: str,
        on_event: Callable[[ResourceEvent], None] | None = None,
        checkpoints: Path | None = None,
    ) -> None:
        """`checkpoints`: a local folder for in-flight deploy state (store.py says why); None writes it all to the cloud."""
        cache: dict[str, Any] = {}

        def cached(service: str) -> Any:
            if service not in cache:
                cache[service] = client(service)
            return cache[service]

        self._client = cached
        self.account_id = account_id
        self.region = region
        self._emit = on_event or (lambda event: None)
        self._store = StateStore(cached, account_id=account_id, region=region, checkpoints=checkpoints)

    # -- reading --------------------------------------------------------------------------

    def describe(self, stack_name: str) -> StackState | None:
        return self._store.load(stack_name)

    def list_stacks(self) -> list[StackState]:
        return self._store.load_all()

    def exports(self) -> dict[str, str]:
        return dict(ExportRegistry.from_states(self._store.load_all()).values)

    # -- plan and deploy ----------------------------------------------------------------

    def plan(
        self, stack_name: str, template: dict[str, Any], parameters: dict[str, Any] | None = None
    ) -> StackPlan:
        """What `deploy` would do, per logical id. Makes no write call."""
        return self._prepare(stack_name, template, parameters).plan

    def deploy(
        self, stack_name: str, template: dict[str, Any], parameters: dict[str, Any] | None = None
    ) -> StackState:
        """Create or update the stack; returns its new state, or raises (after rolling back)."""
        prepared = self._prepare(stack_name, template, parameters)
        old = prepared.old
        if old is not None and self._unchanged(prepared):
            return old
        deployment = Deployment(scope=prepared.scope, old=old, store=self._store, emit=self._emit)
        return deployment.run(prepared.raw_parameters)

    def _unchanged(self, prepared: _Prepared) -> bool:
        old = prepared.old
        return (
            old is not None
            and old.status in SETTLED
            and not old.pending
            and not prepared.plan.has_changes
            and old.template == prepared.scope.template.body
            and old.parameters == prepared.raw_parameters
            and sorted(prepared.scope.imports) == sorted(old.imports)
        )

    def _prepare(self, stack_name: str, body: dict[str, Any], parameters: dict[str, Any] | None) -> _Prepared:
        template = parse_template(body)
        values, raw = bind_parameters(template.parameters, parameters)
        states = self._store.load_all()
        old = next((s for s in states if s.name == stack_name), None)
        is_new = old is None or (old.status in FRESH and not old.resources)
        scope = StackScope(
            template=template,
            stack_name=stack_name,
            stack_id=(old.stack_id if old and old.stack_id and not is_new else self._stack_id(stack_name)),
            account_id=self.account_id,
            region=self.region,
            parameters=values,
            conditions={},
            registry=ExportRegistry.from_states(states, excluding=stack_name),
            client=self._client,
        )
        scope.conditions = evaluate_conditions(template.conditions, lambda done: scope.scope(done))
        plan = make_plan(scope, None if is_new else old, is_new=is_new)
        self._precheck_exports(scope, old, plan)
        return _Prepared(scope=scope, old=None if is_new else old, plan=plan, raw_parameters=raw)

    def _precheck_exports(self, scope: StackScope, old: StackState | None, plan: StackPlan) -> None:
        """Refuse, before touching anything, an export change the rules forbid (known values only)."""
        if not plan.outputs_changed:
            return
        _, exports = scope.resolve_outputs()
        known = {name: value for name, value in exports.items() if "{{known after deploy" not in name}
        scope.registry.check_new_exports(scope.stack_name, known)
        removed = {name: v for name, v in (old.exports if old else {}).items() if name not in exports}
        scope.registry.check_changes(scope.stack_name, removed, {})
        changed = {
            name: v
            for name, v in (old.exports if old else {}).items()
            if name in exports and "{{known after deploy" not in exports[name] and exports[name] != v
        }
        scope.registry.check_changes(scope.stack_name, changed, {k: exports[k] for k in changed})

    def _stack_id(self, stack_name: str) -> str:
        return f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{stack_name}/{uuid.uuid4()}"

    # -- delete ----------------------------------------------------------------------------

    def delete(self, stack_name: str) -> None:
        """Delete every resource of the stack (Retain / RetainExceptOnCreate ones stay); refused while its exports are imported."""
        states = self._store.load_all()
        state = next((s for s in states if s.name == stack_name), None)
        if state is None:
            return
        ExportRegistry.from_states(states).check_delete(state)
        state.status, state.updated_at = StackStatus.DELETE_IN_PROGRESS, now()
        self._store.save(state)

        def context(logical_id: str) -> ResourceContext:
            return ResourceContext(
                client=self._client,
                account_id=self.account_id,
                region=self.region,
                stack_name=stack_name,
                logical_id=logical_id,
            )

        for pending in list(state.pending.values()):  # creates a dead process left half done
            clear_leftover(pending, stack_name=stack_name, context=context, emit=self._emit)
        failed = [
            rs
            for rs in reverse_order(list(state.resources.values()))
            if not delete_resource(rs, stack_name=stack_name, context=context, emit=self._emit)
        ]
        if failed:
            state.resources = {rs.logical_id: rs for rs in failed}
            state.status, state.updated_at = StackStatus.DELETE_FAILED, now()
            state.reason = f"could not delete {', '.join(rs.logical_id for rs in failed)}"
            self._store.save(state)
            raise DeployError(
                f"Stack {stack_name}: DELETE_FAILED — could not delete {', '.join(rs.logical_id for rs in failed)}; "
                f"see the resource events for the reason, fix it and delete again",
                logical_id=failed[0].logical_id,
            )
        self._store.remove(stack_name)


__all__ = ["Action", "Provisioner", "StackPlan"]
