"""Parse and validate a CloudFormation template before anything is touched.

`parse_template(dict) -> Template` checks the sections, every resource's type (it must have a
registered handler) and properties, every intrinsic's shape and target (missing resources,
parameters, conditions, GetAtt attributes), and the dependency graph (a cycle is named).
`Template.bind(parameters)` then resolves parameter values and evaluates the conditions,
giving the set of active resources in dependency order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stagewise.provisioner.errors import TemplateError
from stagewise.provisioner.graph import dependency_order
from stagewise.provisioner.intrinsics import PSEUDO, Refs, scan
from stagewise.provisioner.resources import ResourceType, resource_class

SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion",
        "Description",
        "Metadata",
        "Parameters",
        "Mappings",
        "Conditions",
        "Resources",
        "Outputs",
        "Transform",
        "Rules",
    }
)
RESOURCE_KEYS = frozenset(
    {"Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "Metadata"}
)
POLICIES = {
    "DeletionPolicy": frozenset({"Delete", "Retain", "RetainExceptOnCreate", "Snapshot"}),
    # CloudFormation has no RetainExceptOnCreate here: a replacement is never a rolled-back create.
    "UpdateReplacePolicy": frozenset({"Delete", "Retain", "Snapshot"}),
}
PARAMETER_TYPES = frozenset({"String", "Number", "CommaDelimitedList", "List<Number>"})


@dataclass(frozen=True)
class ResourceSpec:
    logical_id: str
    type: str
    handler: type[ResourceType]
    properties: dict[str, Any]
    depends_on: frozenset[str]
    condition: str | None
    deletion_policy: str
    update_replace_policy: str
    metadata: dict[str, Any]


@dataclass
class Template:
    body: dict[str, Any]
    parameters: dict[str, dict[str, Any]]
    conditions: dict[str, Any]
    mappings: dict[str, Any]
    resources: dict[str, ResourceSpec]
    outputs: dict[str, dict[str, Any]]
    order: list[str] = field(default_factory=list)
    edges: dict[str, set[str]] = field(default_factory=dict)  # logical id -> ids it depends on


def parse_template(body: dict[str, Any]) -> Template:
    """Validate the whole template; raise TemplateError naming the first problem found."""
    if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict) or not body["Resources"]:
        raise TemplateError("Template format error: at least one resource must be defined under Resources")
    unknown = sorted(set(body) - SECTIONS)
    if unknown:
        raise TemplateError(f"Template format error: unknown top-level section(s) {', '.join(unknown)}")
    if body.get("Transform"):
        raise TemplateError("Template uses a Transform, which the local provisioner cannot expand")
    template = Template(
        body=body,
        parameters=_section(body, "Parameters"),
        conditions=_section(body, "Conditions"),
        mappings=_section(body, "Mappings"),
        resources={},
        outputs=_section(body, "Outputs"),
    )
    _check_parameters(template.parameters)
    template.resources = {lid: _resource(lid, spec) for lid, spec in body["Resources"].items()}
    template.edges = _check_references(template)
    template.order = dependency_order(template.edges)
    return template


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name, {})
    if not isinstance(value, dict):
        raise TemplateError(f"Template format error: {name} must be a mapping")
    return value


def _check_parameters(parameters: dict[str, dict[str, Any]]) -> None:
    for name, spec in parameters.items():
        kind = spec.get("Type") if isinstance(spec, dict) else None
        if kind not in PARAMETER_TYPES:
            raise TemplateError(
                f"Parameter {name}: type {kind!r} is not supported (use {', '.join(sorted(PARAMETER_TYPES))})"
            )


def _resource(logical_id: str, spec: Any) -> ResourceSpec:
    where = f"Resources.{logical_id}"
    if not isinstance(spec, dict) or not isinstance(spec.get("Type"), str):
        raise TemplateError(f"{where}: every resource needs a Type")
    extra = sorted(set(spec) - RESOURCE_KEYS)
    if extra:
        raise TemplateError(f"{where}: unknown resource attribute(s) {', '.join(extra)}")
    handler = resource_class(spec["Type"])
    if handler is None:
        raise TemplateError(
            f"{where}: resource type {spec['Type']} is not supported by the local provisioner; "
            f"nothing was deployed. Add a class for it under stagewise/provisioner/resources/ "
            f"(see docs/provisioner.md)"
        )
    properties = spec.get("Properties", {})
    if not isinstance(properties, dict):
        raise TemplateError(f"{where}.Properties must be a mapping")
    handler.validate(properties, where=where)
    depends = spec.get("DependsOn", [])
    depends = [depends] if isinstance(depends, str) else depends
    for key, allowed in POLICIES.items():
        if spec.get(key, "Delete") not in allowed:
            raise TemplateError(f"{where}.{key} must be one of {', '.join(sorted(allowed))}")
    return ResourceSpec(
        logical_id=logical_id,
        type=spec["Type"],
        handler=handler,
        properties=properties,
        depends_on=frozenset(depends),
        condition=spec.get("Condition"),
        deletion_policy=spec.get("DeletionPolicy", "Delete"),
        update_replace_policy=spec.get("UpdateReplacePolicy", "Delete"),
        metadata=spec.get("Metadata", {}),
    )


def _check_references(template: Template) -> dict[str, set[str]]:
    """Check every reference in the template; return the resource dependency edges."""
    ids = set(template.resources)
    for name, expr in template.conditions.items():
        refs = scan(expr, where=f"Conditions.{name}")
        _check_refs(template, refs, where=f"Conditions.{name}", allow_resources=False)
    edges: dict[str, set[str]] = {}
    for lid, spec in template.resources.items():
        where = f"Resources.{lid}"
        refs = scan(spec.properties, where=f"{where}.Properties")
        _check_refs(template, refs, where=where, allow_resources=True)
        if spec.condition is not None:
            refs.conditions.add(spec.condition)
            _check_refs(template, refs, where=where, allow_resources=True)
        missing = sorted(spec.depends_on - ids)
        if missing:
            raise TemplateError(
                f"{where}.DependsOn: resource {', '.join(missing)} does not exist in the template"
            )
        edges[lid] = refs.resources(ids) | set(spec.depends_on)
    for name, output in template.outputs.items():
        refs = scan(output, where=f"Outputs.{name}")
        _check_refs(template, refs, where=f"Outputs.{name}", allow_resources=True)
    return edges


def _check_refs(template: Template, refs: Refs, *, where: str, allow_resources: bool) -> None:
    resources = template.resources if allow_resources else {}
    for name in sorted(refs.names):
        if name not in PSEUDO and name not in template.parameters and name not in resources:
            kind = "parameter or resource" if allow_resources else "parameter"
            raise TemplateError(
                f"Template format error at {where}: unresolved {kind} {name} (Ref / ${{{name}}})"
            )
    for logical_id, attribute in sorted(refs.attributes):
        spec = resources.get(logical_id)
        if spec is None:
            raise TemplateError(
                f"Template format error at {where}: Fn::GetAtt refers to resource {logical_id}, "
                f"which is not in the template"
            )
        if attribute not in spec.handler.attributes:
            raise TemplateError(
                f"Template error at {where}: resource {logical_id} ({spec.type}) has no attribute {attribute} "
                f"(it has: {', '.join(sorted(spec.handler.attributes)) or 'none'})"
            )
    for name in sorted(refs.conditions):
        if name not in template.conditions:
            raise TemplateError(
                f"Template format error at {where}: condition {name} is not defined under Conditions"
            )
