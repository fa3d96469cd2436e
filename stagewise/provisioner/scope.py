"""Builds the resolution `Scope` for one stack: parameters, conditions, resource values, imports.

Resource values come from the ResourceStates known so far; a resource in `pending` (not created
yet, or being replaced) resolves to a `{{known after deploy: Id.Attr}}` placeholder, which is
how a plan shows a value that only a deploy can know. Imports are recorded as they resolve.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stagewise.provisioner.errors import TemplateError
from stagewise.provisioner.exports import ExportRegistry
from stagewise.provisioner.intrinsics import Scope, resolve
from stagewise.provisioner.resources import ResourceContext, resource_class
from stagewise.provisioner.state import ResourceState
from stagewise.provisioner.template import Template

PLACEHOLDER = "{{known after deploy: %s}}"


def is_placeholder_in(value: Any) -> bool:
    return "{{known after deploy: " in repr(value)


@dataclass
class StackScope:
    """The bound stack: what a Scope needs, with `resources` and `pending` updated as work proceeds."""

    template: Template
    stack_name: str
    stack_id: str
    account_id: str
    region: str
    parameters: dict[str, Any]
    conditions: dict[str, bool]
    registry: ExportRegistry
    client: Callable[[str], Any]
    resources: Mapping[str, ResourceState] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)

    def active(self, logical_id: str) -> bool:
        condition = self.template.resources[logical_id].condition
        return condition is None or self.conditions[condition]

    def context(self, logical_id: str) -> ResourceContext:
        return ResourceContext(
            client=self.client,
            account_id=self.account_id,
            region=self.region,
            stack_name=self.stack_name,
            logical_id=logical_id,
        )

    def scope(self, conditions: Mapping[str, bool] | None = None) -> Scope:
        return Scope(
            region=self.region,
            account_id=self.account_id,
            stack_name=self.stack_name,
            stack_id=self.stack_id,
            parameters=self.parameters,
            conditions=self.conditions if conditions is None else conditions,
            mappings=self.template.mappings,
            resource_value=self._resource_value,
            import_value=self._import_value,
        )

    def _resource_value(self, logical_id: str, attribute: str | None) -> Any:
        if logical_id not in self.template.resources or not self.active(logical_id):
            raise TemplateError(
                f"Template format error: Unresolved resource dependencies [{logical_id}] in the Resources "
                f"block of the template (the resource is missing or its Condition is false)"
            )
        if logical_id in self.pending or logical_id not in self.resources:
            return PLACEHOLDER % (logical_id + (f".{attribute}" if attribute else ""))
        state = self.resources[logical_id]
        handler_class = resource_class(state.type)
        if handler_class is None:
            raise TemplateError(f"resource {logical_id} has unsupported type {state.type}")
        handler = handler_class(self.context(logical_id))
        return handler.ref(state) if attribute is None else handler.get_att(state, attribute)

    def _import_value(self, name: str) -> Any:
        self.imports.add(name)
        return self.registry.value(name)

    def resolve_outputs(self) -> tuple[dict[str, str], dict[str, str]]:
        """(outputs, exports) with values resolved; outputs whose Condition is false are left out."""

        outputs: dict[str, str] = {}
        exports: dict[str, str] = {}
        for name, output in self.template.outputs.items():
            condition = output.get("Condition")
            if condition is not None and not self.conditions.get(condition, False):
                continue
            value = _text(resolve(output.get("Value"), self.scope()))
            outputs[name] = value
            if "Export" in output:
                exports[_text(resolve(output["Export"].get("Name"), self.scope()))] = value
        return outputs, exports


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
