"""AWS::SQS::Queue (Ref = queue URL; attrs Arn, QueueName, QueueUrl) and AWS::SQS::QueuePolicy."""

from __future__ import annotations

import json
from typing import Any

from stagewise.provisioner.resources.base import (
    Provisioned,
    ResourceType,
    attribute_text,
    fifo_name,
    is_true,
    register,
    string_attributes,
)
from stagewise.provisioner.state import ResourceState

_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "SqsManagedSseEnabled",
)
_DEFAULTS = {
    "DelaySeconds": "0",
    "MaximumMessageSize": "262144",
    "MessageRetentionPeriod": "345600",
    "ReceiveMessageWaitTimeSeconds": "0",
    "VisibilityTimeout": "30",
    "RedrivePolicy": "",
    "RedriveAllowPolicy": "",
}


@register
class Queue(ResourceType):
    type_name = "AWS::SQS::Queue"
    properties = frozenset({"QueueName", "FifoQueue", "Tags", *_QUEUE_ATTRIBUTES})
    replace_on = frozenset({"QueueName", "FifoQueue"})
    attributes = frozenset({"Arn", "QueueName", "QueueUrl"})
    name_property = "QueueName"

    def physical_id_for(self, name: str) -> str:
        return self.ctx.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]

    def create(self, props: dict[str, Any]) -> Provisioned:
        fifo = is_true(props.get("FifoQueue", False))
        name = fifo_name(self.ctx, props.get("QueueName"), fifo=fifo, max_length=80)
        attributes = string_attributes(props, _QUEUE_ATTRIBUTES)
        if fifo:
            attributes["FifoQueue"] = "true"
        kwargs: dict[str, Any] = {"Attributes": attributes}
        if props.get("Tags"):
            kwargs["tags"] = {t["Key"]: t["Value"] for t in props["Tags"]}
        url = self.ctx.client("sqs").create_queue(QueueName=name, **kwargs)["QueueUrl"]
        return self._provisioned(url, name)

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        changed = {
            k: attribute_text(props[k]) if k in props else _DEFAULTS.get(k, "")
            for k in _QUEUE_ATTRIBUTES
            if current.properties.get(k) != props.get(k)
        }
        if changed:
            self.ctx.client("sqs").set_queue_attributes(QueueUrl=current.physical_id, Attributes=changed)
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("sqs").delete_queue(QueueUrl=current.physical_id)

    def _provisioned(self, url: str, name: str) -> Provisioned:
        arn = self.ctx.arn("sqs", name)
        return Provisioned(physical_id=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})


@register
class QueuePolicy(ResourceType):
    type_name = "AWS::SQS::QueuePolicy"
    properties = frozenset({"PolicyDocument", "Queues"})
    required = frozenset({"PolicyDocument", "Queues"})
    attributes = frozenset({"Id"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        self._apply(props)
        physical_id = self.ctx.generated_name(max_length=128)
        return Provisioned(physical_id=physical_id, attributes={"Id": physical_id})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        for url in set(current.properties["Queues"]) - set(props["Queues"]):
            self.ctx.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
        self._apply(props)
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        for url in current.properties["Queues"]:
            self.ctx.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})

    def _apply(self, props: dict[str, Any]) -> None:
        policy = json.dumps(props["PolicyDocument"])
        for url in props["Queues"]:
            self.ctx.client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
