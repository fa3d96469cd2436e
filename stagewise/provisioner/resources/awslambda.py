"""AWS::Lambda::Function, ::Permission and ::EventInvokeConfig through moto's Lambda API.

moto keeps Lambda metadata only (it cannot run code without Docker), so a function is created
with a tiny placeholder zip; the template's real `Code` (the build's S3 artifact) stays in the
resolved properties in the stack state, where the local runtime reads it with `Handler`,
`Environment` and `Metadata`. A change to `Code` alone needs no call to moto.
"""

from __future__ import annotations

import io
import zipfile
from functools import cache
from typing import Any

from stagewise.provisioner.resources.base import Provisioned, PutResource, ResourceType, optional, register
from stagewise.provisioner.state import ResourceState

_CONFIG = {
    "Runtime": "Runtime",
    "Handler": "Handler",
    "Description": "Description",
    "Timeout": "Timeout",
    "MemorySize": "MemorySize",
    "Environment": "Environment",
    "TracingConfig": "TracingConfig",
    "Layers": "Layers",
    "DeadLetterConfig": "DeadLetterConfig",
    "EphemeralStorage": "EphemeralStorage",
    "LoggingConfig": "LoggingConfig",
    "Role": "Role",
}
_INTS = ("Timeout", "MemorySize")


@cache
def placeholder_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# stagewise: the local runtime runs the real code\n")
    return buffer.getvalue()


def _config(props: dict[str, Any]) -> dict[str, Any]:
    kwargs = optional(props, _CONFIG)
    for key in _INTS:
        if key in kwargs:
            kwargs[key] = int(kwargs[key])
    return kwargs


@register
class Function(ResourceType):
    type_name = "AWS::Lambda::Function"
    properties = frozenset(
        {
            *_CONFIG,
            "FunctionName",
            "Code",
            "Architectures",
            "PackageType",
            "Tags",
            "ReservedConcurrentExecutions",
        }
    )
    required = frozenset({"Code", "Role"})
    replace_on = frozenset({"FunctionName", "PackageType"})
    attributes = frozenset({"Arn"})
    name_property = "FunctionName"

    def create(self, props: dict[str, Any]) -> Provisioned:
        name = props.get("FunctionName") or self.ctx.generated_name(max_length=64)
        kwargs = _config(props)
        if "Architectures" in props:
            kwargs["Architectures"] = props["Architectures"]
        if props.get("Tags"):
            kwargs["Tags"] = {t["Key"]: t["Value"] for t in props["Tags"]}
        result = self.ctx.client("lambda").create_function(
            FunctionName=name, Code={"ZipFile": placeholder_zip()}, Publish=False, **kwargs
        )
        self._concurrency(name, {}, props)
        return Provisioned(physical_id=name, attributes={"Arn": result["FunctionArn"]})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        old = current.properties
        changed = {k: v for k, v in _config(props).items() if _config(old).get(k) != v}
        removed = {k for k in _CONFIG if k in old and k not in props}
        if "Environment" in removed:
            changed["Environment"] = {"Variables": {}}
        if changed:
            self.ctx.client("lambda").update_function_configuration(
                FunctionName=current.physical_id, **changed
            )
        self._concurrency(current.physical_id, old, props)
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("lambda").delete_function(FunctionName=current.physical_id)

    def _concurrency(self, name: str, old: dict[str, Any], props: dict[str, Any]) -> None:
        key = "ReservedConcurrentExecutions"
        if old.get(key) == props.get(key):
            return
        client = self.ctx.client("lambda")
        if key in props:
            client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=int(props[key]))
        else:
            client.delete_function_concurrency(FunctionName=name)


@register
class Permission(ResourceType):
    type_name = "AWS::Lambda::Permission"
    properties = frozenset(
        {
            "FunctionName",
            "Action",
            "Principal",
            "SourceArn",
            "SourceAccount",
            "EventSourceToken",
            "PrincipalOrgID",
            "FunctionUrlAuthType",
        }
    )
    required = frozenset({"FunctionName", "Action", "Principal"})
    update_in_place = False  # every property of AWS::Lambda::Permission requires replacement

    def create(self, props: dict[str, Any]) -> Provisioned:
        statement_id = self.ctx.generated_name(max_length=100)
        kwargs = optional(
            props,
            {
                "SourceArn": "SourceArn",
                "SourceAccount": "SourceAccount",
                "EventSourceToken": "EventSourceToken",
                "PrincipalOrgID": "PrincipalOrgID",
                "FunctionUrlAuthType": "FunctionUrlAuthType",
            },
        )
        self.ctx.client("lambda").add_permission(
            FunctionName=props["FunctionName"],
            StatementId=statement_id,
            Action=props["Action"],
            Principal=props["Principal"],
            **kwargs,
        )
        return Provisioned(physical_id=statement_id)

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("lambda").remove_permission(
            FunctionName=current.properties["FunctionName"], StatementId=current.physical_id
        )


@register
class EventInvokeConfig(PutResource):
    type_name = "AWS::Lambda::EventInvokeConfig"
    properties = frozenset(
        {"FunctionName", "Qualifier", "MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig"}
    )
    required = frozenset({"FunctionName", "Qualifier"})
    replace_on = frozenset({"FunctionName", "Qualifier"})

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("lambda").delete_function_event_invoke_config(**self._target(current.properties))

    def _target(self, props: dict[str, Any]) -> dict[str, Any]:
        target = {"FunctionName": props["FunctionName"]}
        if props["Qualifier"] != "$LATEST":
            target["Qualifier"] = props["Qualifier"]
        return target

    def put(self, props: dict[str, Any]) -> None:
        kwargs = optional(props, {"DestinationConfig": "DestinationConfig"})
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key in props:
                kwargs[key] = int(props[key])
        self.ctx.client("lambda").put_function_event_invoke_config(**self._target(props), **kwargs)
