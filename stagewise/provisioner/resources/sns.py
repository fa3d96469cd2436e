"""AWS::SNS::Topic (Ref = ARN; attrs TopicArn, TopicName) and AWS::SNS::Subscription (Ref = ARN).

A `lambda` subscription is never created in moto: moto runs the function through Docker
inside Publish. Instead the provisioner creates a *delivery queue* (SQS, deterministic name
from the stack, the logical id and what it subscribes) subscribed to the topic with protocol
`sqs` (raw delivery off, so each message body is the SNS envelope), and records it in the
resource's attributes (`DeliveryQueueUrl`, `DeliveryQueueArn`). The local runtime
(`stagewise.runtime.delivery`) polls that queue and invokes the function, as Lambda would.
"""

from __future__ import annotations

import hashlib
from typing import Any

from stagewise.provisioner.errors import TemplateError
from stagewise.provisioner.resources.base import (
    Provisioned,
    ResourceType,
    attribute_text,
    fifo_name,
    is_true,
    register,
    string_attributes,
    tags_list,
)
from stagewise.provisioner.state import ResourceState

_TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "ContentBasedDeduplication", "TracingConfig")
_SUBSCRIPTION_ATTRIBUTES = (
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "DeliveryPolicy",
)
# What a lambda subscription's stand-in (an sqs subscription) keeps: filtering. Raw delivery and
# HTTP delivery policies mean nothing for Lambda, and the runtime needs the envelope.
_LAMBDA_ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope")
LAMBDA = "lambda"
MAX_QUEUE_NAME = 80
DELIVERY_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: nothing published is dropped early


@register
class Topic(ResourceType):
    type_name = "AWS::SNS::Topic"
    properties = frozenset({"TopicName", "FifoTopic", "Subscription", "Tags", *_TOPIC_ATTRIBUTES})
    replace_on = frozenset({"TopicName", "FifoTopic"})
    attributes = frozenset({"TopicArn", "TopicName"})
    name_property = "TopicName"

    def physical_id_for(self, name: str) -> str:
        return f"arn:{self.ctx.partition}:sns:{self.ctx.region}:{self.ctx.account_id}:{name}"

    def create(self, props: dict[str, Any]) -> Provisioned:
        sns = self.ctx.client("sns")
        fifo = is_true(props.get("FifoTopic", False))
        name = fifo_name(self.ctx, props.get("TopicName"), fifo=fifo, max_length=256)
        attributes = string_attributes(props, _TOPIC_ATTRIBUTES)
        if fifo:
            attributes["FifoTopic"] = "true"
        kwargs: dict[str, Any] = {"Attributes": attributes}
        if props.get("Tags"):
            kwargs["Tags"] = tags_list(props)
        arn = sns.create_topic(Name=name, **kwargs)["TopicArn"]
        for sub in props.get("Subscription", []):
            sns.subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        return Provisioned(physical_id=arn, attributes={"TopicArn": arn, "TopicName": name})

    @classmethod
    def validate(cls, props: dict[str, Any], *, where: str) -> None:
        super().validate(props, where=where)
        for sub in props.get("Subscription") or []:
            if isinstance(sub, dict) and sub.get("Protocol") == LAMBDA:
                raise TemplateError(
                    f"{where}: an inline lambda Subscription of AWS::SNS::Topic is not supported locally "
                    "(moto would run it through Docker); declare an AWS::SNS::Subscription resource instead"
                )

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        sns = self.ctx.client("sns")
        arn, old = current.physical_id, current.properties
        for key in _TOPIC_ATTRIBUTES:
            if old.get(key) != props.get(key):
                sns.set_topic_attributes(
                    TopicArn=arn, AttributeName=key, AttributeValue=attribute_text(props.get(key, ""))
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
        if props["Protocol"] == LAMBDA:
            return self._create_delivery(props)
        attributes = string_attributes(props, _SUBSCRIPTION_ATTRIBUTES)
        arn = self.ctx.client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props.get("Endpoint", ""),
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return Provisioned(physical_id=arn, attributes={"Arn": arn})

    def _create_delivery(self, props: dict[str, Any]) -> Provisioned:
        """The stand-in for a lambda subscription: a delivery queue subscribed to the topic (sqs)."""
        sqs = self.ctx.client("sqs")
        name = delivery_queue_name(self.ctx.stack_name, self.ctx.logical_id, props)
        url = sqs.create_queue(
            QueueName=name, Attributes={"MessageRetentionPeriod": str(DELIVERY_RETENTION_SECONDS)}
        )["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = string_attributes(props, _LAMBDA_ATTRIBUTES)
        try:
            arn = self.ctx.client("sns").subscribe(
                TopicArn=props["TopicArn"], Protocol="sqs", Endpoint=queue_arn, Attributes=attributes,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
        except Exception:
            sqs.delete_queue(QueueUrl=url)
            raise
        return Provisioned(
            physical_id=arn, attributes={"Arn": arn, "DeliveryQueueUrl": url, "DeliveryQueueArn": queue_arn}
        )

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        sns = self.ctx.client("sns")
        keys = _LAMBDA_ATTRIBUTES if props["Protocol"] == LAMBDA else _SUBSCRIPTION_ATTRIBUTES
        for key in keys:
            if current.properties.get(key) != props.get(key):
                value = (
                    attribute_text(props[key])
                    if key in props
                    else ("false" if key == "RawMessageDelivery" else "")
                )
                sns.set_subscription_attributes(
                    SubscriptionArn=current.physical_id, AttributeName=key, AttributeValue=value
                )
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("sns").unsubscribe(SubscriptionArn=current.physical_id)
        queue = current.attributes.get("DeliveryQueueUrl")
        if queue:
            self.ctx.client("sqs").delete_queue(QueueUrl=queue)


def delivery_queue_name(stack: str, logical_id: str, props: dict[str, Any]) -> str:
    """`<stack>-<logical id>-<hash of topic + endpoint>`, at most 80 characters, the same on every deploy.

    The hash makes a replacement (new topic or function) get a new queue, so deleting the old
    subscription never deletes the queue its replacement uses.
    """
    what = f"{props['TopicArn']}\n{props.get('Endpoint', '')}"
    digest = hashlib.sha256(what.encode()).hexdigest()[:10]
    head = f"{stack}-{logical_id}"[: MAX_QUEUE_NAME - len(digest) - 1]
    return f"{head}-{digest}"
