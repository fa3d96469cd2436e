"""A lambda subscription becomes a delivery queue subscribed with protocol sqs (never a moto lambda subscription)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stagewise.provisioner import Provisioner, TemplateError
from stagewise.provisioner.resources.sns import MAX_QUEUE_NAME, delivery_queue_name

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:notify"
OTHER_ARN = "arn:aws:lambda:us-east-1:123456789012:function:other"


def _template(endpoint: str = FUNCTION_ARN, **extra: Any) -> dict[str, Any]:
    return {
        "Resources": {
            "T": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "purchases"}},
            "Sub": {
                "Type": "AWS::SNS::Subscription",
                "Properties": {"TopicArn": {"Ref": "T"}, "Protocol": "lambda", "Endpoint": endpoint, **extra},
            },
        }
    }


def _queues(cloud: Any) -> list[str]:
    return cloud.client("sqs").list_queues().get("QueueUrls", [])


def _subscriptions(cloud: Any) -> list[dict[str, Any]]:
    return cloud.client("sns").list_subscriptions()["Subscriptions"]


def test_lambda_subscription_is_a_delivery_queue_with_the_sns_envelope(prov: Provisioner, cloud: Any) -> None:
    state = prov.deploy("dev-app-notify", _template())
    sub = state.resources["Sub"]
    subs = _subscriptions(cloud)
    assert [s["Protocol"] for s in subs] == ["sqs"]
    assert subs[0]["SubscriptionArn"] == sub.physical_id == sub.attributes["Arn"]
    assert subs[0]["Endpoint"] == sub.attributes["DeliveryQueueArn"]
    assert sub.attributes["DeliveryQueueUrl"] in _queues(cloud)
    raw = cloud.client("sns").get_subscription_attributes(SubscriptionArn=sub.physical_id)["Attributes"]
    assert raw.get("RawMessageDelivery", "false") == "false"

    topic = state.resources["T"].physical_id
    cloud.client("sns").publish(TopicArn=topic, Message='{"amount": 4000}', Subject="hi")
    messages = cloud.client("sqs").receive_message(QueueUrl=sub.attributes["DeliveryQueueUrl"])["Messages"]
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == topic
    assert envelope["Message"] == '{"amount": 4000}'
    assert envelope["Subject"] == "hi"


def test_delivery_queue_name_is_deterministic_and_fits() -> None:
    props = {"TopicArn": "arn:aws:sns:us-east-1:1:t", "Endpoint": FUNCTION_ARN}
    long_stack = "feature-very-long-branch-name-for-testing-notes-notify-job"
    name = delivery_queue_name(long_stack, "NotifySubscriptionWithAVeryLongLogicalId", props)
    assert len(name) <= MAX_QUEUE_NAME
    assert name == delivery_queue_name(long_stack, "NotifySubscriptionWithAVeryLongLogicalId", props)
    assert name != delivery_queue_name(long_stack, "NotifySubscriptionWithAVeryLongLogicalId",
                                       {**props, "Endpoint": OTHER_ARN})
    assert delivery_queue_name("dev-app-notify", "Sub", props).startswith("dev-app-notify-Sub-")


def test_delete_removes_the_subscription_and_its_queue(prov: Provisioner, cloud: Any) -> None:
    state = prov.deploy("dev-app-notify", _template())
    url = state.resources["Sub"].attributes["DeliveryQueueUrl"]
    prov.delete("dev-app-notify")
    assert url not in _queues(cloud)
    assert _subscriptions(cloud) == []


def test_filter_policy_applies_to_the_delivery_subscription(prov: Provisioner, cloud: Any) -> None:
    state = prov.deploy("dev-app-notify", _template())
    policy = {"kind": ["purchase"]}
    state = prov.deploy("dev-app-notify", _template(FilterPolicy=policy))
    sub = state.resources["Sub"]
    attrs = cloud.client("sns").get_subscription_attributes(SubscriptionArn=sub.physical_id)["Attributes"]
    assert json.loads(attrs["FilterPolicy"]) == policy
    topic = state.resources["T"].physical_id
    sns = cloud.client("sns")
    sns.publish(TopicArn=topic, Message="skipped", MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}})
    sns.publish(TopicArn=topic, Message="kept",
                MessageAttributes={"kind": {"DataType": "String", "StringValue": "purchase"}})
    got = cloud.client("sqs").receive_message(QueueUrl=sub.attributes["DeliveryQueueUrl"], MaxNumberOfMessages=10)
    assert [json.loads(m["Body"])["Message"] for m in got["Messages"]] == ["kept"]


def test_replacement_gets_a_new_queue_and_the_old_one_goes(prov: Provisioner, cloud: Any) -> None:
    first = prov.deploy("dev-app-notify", _template()).resources["Sub"]
    second = prov.deploy("dev-app-notify", _template(OTHER_ARN)).resources["Sub"]
    assert second.attributes["DeliveryQueueUrl"] != first.attributes["DeliveryQueueUrl"]
    assert _queues(cloud) == [second.attributes["DeliveryQueueUrl"]]
    assert [s["SubscriptionArn"] for s in _subscriptions(cloud)] == [second.physical_id]


def test_other_protocols_unchanged(prov: Provisioner, cloud: Any) -> None:
    template = _template()
    template["Resources"]["Q"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    template["Resources"]["Sub"]["Properties"].update(Protocol="sqs", Endpoint={"Fn::GetAtt": ["Q", "Arn"]})
    state = prov.deploy("dev-app-q", template)
    assert "DeliveryQueueUrl" not in state.resources["Sub"].attributes
    assert len(_queues(cloud)) == 1


def test_inline_lambda_subscription_on_a_topic_is_refused(prov: Provisioner, cloud: Any) -> None:
    template = copy.deepcopy(_template())
    del template["Resources"]["Sub"]
    template["Resources"]["T"]["Properties"]["Subscription"] = [{"Protocol": "lambda", "Endpoint": FUNCTION_ARN}]
    with pytest.raises(TemplateError, match="AWS::SNS::Subscription resource instead"):
        prov.deploy("dev-app-inline", template)
    with pytest.raises(ClientError):
        cloud.client("sns").get_topic_attributes(TopicArn="arn:aws:sns:us-east-1:123456789012:purchases")
