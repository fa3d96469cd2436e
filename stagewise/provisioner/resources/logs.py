"""AWS::Logs::LogGroup (Ref = log group name; attr Arn)."""

from __future__ import annotations

from typing import Any

from stagewise.provisioner.resources.base import Provisioned, ResourceType, register
from stagewise.provisioner.state import ResourceState


@register
class LogGroup(ResourceType):
    type_name = "AWS::Logs::LogGroup"
    properties = frozenset({"LogGroupName", "RetentionInDays", "Tags", "LogGroupClass"})
    replace_on = frozenset({"LogGroupName", "LogGroupClass"})
    attributes = frozenset({"Arn"})
    name_property = "LogGroupName"

    def create(self, props: dict[str, Any]) -> Provisioned:
        logs = self.ctx.client("logs")
        name = props.get("LogGroupName") or self.ctx.generated_name(max_length=512)
        kwargs: dict[str, Any] = {}
        if props.get("Tags"):
            kwargs["tags"] = {t["Key"]: t["Value"] for t in props["Tags"]}
        logs.create_log_group(logGroupName=name, **kwargs)
        if "RetentionInDays" in props:
            self._retention(name, props)
        return Provisioned(physical_id=name, attributes={"Arn": self.ctx.arn("logs", f"log-group:{name}:*")})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        if current.properties.get("RetentionInDays") != props.get("RetentionInDays"):
            self._retention(current.physical_id, props)
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("logs").delete_log_group(logGroupName=current.physical_id)

    def _retention(self, name: str, props: dict[str, Any]) -> None:
        logs = self.ctx.client("logs")
        if "RetentionInDays" in props:
            logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        else:
            logs.delete_retention_policy(logGroupName=name)
