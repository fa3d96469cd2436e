"""AWS::SSM::Parameter (Ref = parameter name; attrs Type, Value).

CloudFormation cannot create a SecureString parameter, so a template asking for one is refused
at validation; secrets are set with `stagewise secrets`, never through a template.
"""

from __future__ import annotations

from typing import Any

from stagewise.provisioner.errors import TemplateError
from stagewise.provisioner.resources.base import Provisioned, ResourceType, optional, register
from stagewise.provisioner.state import ResourceState

_OPTIONS = {
    "Description": "Description",
    "AllowedPattern": "AllowedPattern",
    "Tier": "Tier",
    "DataType": "DataType",
}


@register
class Parameter(ResourceType):
    type_name = "AWS::SSM::Parameter"
    properties = frozenset({"Name", "Type", "Value", "Tags", *_OPTIONS})
    required = frozenset({"Type", "Value"})
    replace_on = frozenset({"Name"})
    attributes = frozenset({"Type", "Value"})
    name_property = "Name"

    @classmethod
    def validate(cls, props: dict[str, Any], *, where: str) -> None:
        super().validate(props, where=where)
        if props.get("Type") not in ("String", "StringList") and not isinstance(props.get("Type"), dict):
            raise TemplateError(
                f"{where}: AWS::SSM::Parameter Type {props.get('Type')!r} is not allowed; CloudFormation only "
                f"creates String and StringList parameters (set secrets with `stagewise secrets set`)"
            )

    def create(self, props: dict[str, Any]) -> Provisioned:
        name = (
            props.get("Name") or f"CFN-{self.ctx.logical_id}-{self.ctx.generated_name(max_length=24)[-12:]}"
        )
        self._put(name, props, overwrite=False)
        return Provisioned(physical_id=name, attributes={"Type": props["Type"], "Value": props["Value"]})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        self._put(current.physical_id, props, overwrite=True)
        return Provisioned(
            physical_id=current.physical_id, attributes={"Type": props["Type"], "Value": props["Value"]}
        )

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("ssm").delete_parameter(Name=current.physical_id)

    def _put(self, name: str, props: dict[str, Any], *, overwrite: bool) -> None:
        value = props["Value"]
        value = ",".join(value) if isinstance(value, list) else str(value)
        kwargs = optional(props, _OPTIONS)
        if props.get("Tags") and not overwrite:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in props["Tags"].items()]
        self.ctx.client("ssm").put_parameter(
            Name=name, Type=props["Type"], Value=value, Overwrite=overwrite, **kwargs
        )
