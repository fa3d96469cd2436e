"""The plan: per logical id, ADD / MODIFY / REPLACE / REMOVE / UNCHANGED — shown by `diff`, run by `deploy`.

`make_plan(scope, old)` resolves every active resource's properties in dependency order
against the live state; a value that depends on a resource being added or replaced is a
`known after deploy` placeholder, so its dependents show as MODIFY (or REPLACE when that
property forces replacement). No write call is made while planning.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from stagewise.provisioner.errors import TemplateError
from stagewise.provisioner.graph import dependency_order
from stagewise.provisioner.intrinsics import resolve
from stagewise.provisioner.resources.base import changed_properties
from stagewise.provisioner.scope import StackScope
from stagewise.provisioner.state import ResourceState, StackState, kept_on_delete


class Action(enum.StrEnum):
    ADD = "ADD"
    MODIFY = "MODIFY"
    REPLACE = "REPLACE"
    REMOVE = "REMOVE"
    UNCHANGED = "UNCHANGED"


@dataclass(frozen=True)
class ResourceChange:
    logical_id: str
    resource_type: str
    action: Action
    replacement_property: str | None = None  # the property that forces a REPLACE
    changed_properties: tuple[str, ...] = ()
    physical_id: str = ""  # of the live resource, when there is one
    retained: bool = False  # REMOVE/REPLACE of a resource whose policy keeps it in place


@dataclass(frozen=True)
class StackPlan:
    stack_name: str
    is_new: bool
    changes: tuple[ResourceChange, ...]
    outputs_changed: bool = False
    properties: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_changes(self) -> bool:
        return self.outputs_changed or any(c.action is not Action.UNCHANGED for c in self.changes)

    def change(self, logical_id: str) -> ResourceChange:
        return next(c for c in self.changes if c.logical_id == logical_id)

    def of(self, action: Action) -> list[ResourceChange]:
        return [c for c in self.changes if c.action is action]


def decide(
    spec_type: str, handler: Any, old: ResourceState | None, props: dict[str, Any], metadata: dict[str, Any]
) -> tuple[Action, str | None, tuple[str, ...]]:
    """What to do with one resource: (action, replacement property, changed properties)."""
    if old is None:
        return Action.ADD, None, ()
    if old.type != spec_type:
        return Action.REPLACE, "Type", ("Type",)
    changed = tuple(changed_properties(old.properties, props))
    if not changed:
        return (Action.UNCHANGED if old.metadata == metadata else Action.MODIFY), None, ()
    reason = handler.replacement_reason(old.properties, props)
    return (Action.REPLACE if reason else Action.MODIFY), reason, changed


def make_plan(scope: StackScope, old: StackState | None, *, is_new: bool) -> StackPlan:
    """Resolve and compare every resource; raises TemplateError for what cannot be deployed."""
    live = dict(old.resources) if old else {}
    template = scope.template
    scope.resources, scope.pending = live, set()
    changes: list[ResourceChange] = []
    resolved: dict[str, dict[str, Any]] = {}
    for lid in template.order:
        if not scope.active(lid):
            continue
        spec = template.resources[lid]
        props = resolve(spec.properties, scope.scope())
        resolved[lid] = props
        current = live.get(lid)
        action, reason, changed = decide(spec.type, spec.handler, current, props, spec.metadata)
        if action is Action.REPLACE:
            _refuse_custom_name_replacement(spec, current, props)
        if action in (Action.ADD, Action.REPLACE):
            scope.pending.add(lid)
        changes.append(
            ResourceChange(
                logical_id=lid,
                resource_type=spec.type,
                action=action,
                replacement_property=reason,
                changed_properties=changed,
                physical_id=current.physical_id if current else "",
                retained=action is Action.REPLACE and spec.update_replace_policy == "Retain",
            )
        )
    changes.extend(_removals(scope, live))
    outputs, exports = scope.resolve_outputs()
    outputs_changed = old is None or outputs != old.outputs or exports != old.exports
    return StackPlan(
        stack_name=scope.stack_name,
        is_new=is_new,
        changes=tuple(changes),
        outputs_changed=outputs_changed,
        properties=resolved,
    )


def _removals(scope: StackScope, live: dict[str, ResourceState]) -> list[ResourceChange]:
    gone = {lid for lid in live if lid not in scope.template.resources or not scope.active(lid)}
    order = dependency_order({lid: set(live[lid].depends_on) for lid in gone})
    return [
        ResourceChange(
            logical_id=lid,
            resource_type=live[lid].type,
            action=Action.REMOVE,
            physical_id=live[lid].physical_id,
            retained=kept_on_delete(live[lid].deletion_policy),
        )
        for lid in reversed(order)
    ]


def _refuse_custom_name_replacement(spec: Any, current: ResourceState | None, props: dict[str, Any]) -> None:
    name_property = spec.handler.name_property
    if current is None or name_property is None or name_property not in props:
        return
    if current.properties.get(name_property) == props[name_property] and current.type == spec.type:
        raise TemplateError(
            f"CloudFormation cannot update a stack when a custom-named resource requires replacing. "
            f"Rename {props[name_property]} ({spec.logical_id}, {spec.type}: changing "
            f"{spec.handler.replacement_reason(current.properties, props)} requires replacement) "
            f"and update the stack again."
        )
