"""AWS::SNS::Topic (Ref = ARN; attrs TopicArn, TopicName) and AWS::SNS::Subscription (Ref = ARN)."""

from __future__ import annotations

import json
from typing import Any

from stagewise.provisioner.resources.base import Provisioned, ResourceType, register, tags_list
from stagewise.provisioner.state import ResourceState

_TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "ContentBasedDeduplication", "TracingConfig")
_SUBSCRIPTION_ATTRIBUTES = (
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "DeliveryPolicy",
)


def _attr_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


@register
class Topic(ResourceType):
    type_name = "AWS::SNS::Topic"
    properties = frozenset({"TopicName", "FifoTopic", "Subscription", "Tags", *_TOPIC_ATTRIBUTES})
    replace_on = frozenset({"TopicName", "FifoTopic"})
    attributes = frozenset({"TopicArn", "TopicName"})
    name_property = "TopicName"

    def create(self, props: dict[str, Any]) -> Provisioned:
        sns = self.ctx.client("sns")
        fifo = str(props.get("FifoTopic", "false")).lower() == "true"
        name = props.get("TopicName") or self.ctx.generated_name(max_length=251 if fifo else 256)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {k: _attr_text(props[k]) for k in _TOPIC_ATTRIBUTES if k in props}
        if fifo:
            attributes["FifoTopic"] = "true"
        kwargs: dict[str, Any] = {"Attributes": attributes}
        if props.get("Tags"):
            kwargs["Tags"] = tags_list(props)
        arn = sns.create_topic(Name=name, **kwargs)["TopicArn"]
        for sub in props.get("Subscription", []):
            sns.subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        return Provisioned(physical_id=arn, attributes={"TopicArn": arn, "TopicName": name})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        sns = self.ctx.client("sns")
        arn, old = current.physical_id, current.properties
        for key in _TOPIC_ATTRIBUTES:
            if old.get(key) != props.get(key):
                sns.set_topic_attributes(
                    TopicArn=arn, AttributeName=key, AttributeValue=_attr_text(props.get(key, ""))
                )
        if old.get("Subscription") != props.get("Subscription"):
            self._sync_subscriptions(arn, old.get("Subscription", []), props.get("Subscription", []))
        return Provisioned(physical_id=arn, attributes=dict(current.attributes))

    def _sync_subscriptions(self, arn: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
        sns = self.ctx.client("sns")
        live = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
        for sub in live:
            wanted = {"Protocol": sub["Protocol"], "Endpoint": sub["Endpoint"]}
            if wanted in old and wanted not in new:
                sns.unsubscribe(SubscriptionArn=sub["SubscriptionArn"])
        for sub in new:
            if sub not in old:
                sns.subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("sns").delete_topic(TopicArn=current.physical_id)


@register
class Subscription(ResourceType):
    type_name = "AWS::SNS::Subscription"
    properties = frozenset({"TopicArn", "Protocol", "Endpoint", "Region", *_SUBSCRIPTION_ATTRIBUTES})
    required = frozenset({"TopicArn", "Protocol"})
    replace_on = frozenset({"TopicArn", "Protocol", "Endpoint", "Region"})
    attributes = frozenset({"Arn"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        attributes = {k: _attr_text(props[k]) for k in _SUBSCRIPTION_ATTRIBUTES if k in props}
        arn = self.ctx.client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props.get("Endpoint", ""),
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return Provisioned(physical_id=arn, attributes={"Arn": arn})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        sns = self.ctx.client("sns")
        for key in _SUBSCRIPTION_ATTRIBUTES:
            if current.properties.get(key) != props.get(key):
                value = (
                    _attr_text(props[key])
                    if key in props
                    else ("false" if key == "RawMessageDelivery" else "")
                )
                sns.set_subscription_attributes(
                    SubscriptionArn=current.physical_id, AttributeName=key, AttributeValue=value
                )
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("sns").unsubscribe(SubscriptionArn=current.physical_id)
