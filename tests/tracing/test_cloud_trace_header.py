"""The local cloud carries a request's X-Ray trace header onto the SQS messages it causes (AWSTraceHeader),
as AWS does for SendMessage and for SNS → SQS delivery."""

from __future__ import annotations

from stagewise.cloud import LocalCloud
from tests.cloud.conftest import cloud, make_client  # noqa: F401 - the running cloud fixture

HEADER = "Root=1-6b0e97ed-83e0bd305c2fbeee8d5c1259;Parent=775d8b9c0b1393f4;Sampled=1"


def traced(client, header: str = HEADER):
    """The client sends `X-Amzn-Trace-Id` on every request, as the X-Ray SDK's botocore patch does."""
    client.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__("X-Amzn-Trace-Id", header))
    return client


def received_trace(sqs, url: str) -> str | None:
    messages = sqs.receive_message(QueueUrl=url, MessageSystemAttributeNames=["AWSTraceHeader"])["Messages"]
    return (messages[0].get("Attributes") or {}).get("AWSTraceHeader")


def test_sns_delivery_to_a_queue_carries_the_publishers_trace_header(cloud: LocalCloud) -> None:  # noqa: F811
    sqs, sns = make_client(cloud, "sqs"), traced(make_client(cloud, "sns"))
    url = sqs.create_queue(QueueName="delivery")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topic = sns.create_topic(Name="purchases")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    sns.publish(TopicArn=topic, Message="{}")
    assert received_trace(sqs, url) == HEADER


def test_send_message_keeps_its_own_trace_header_and_untraced_requests_carry_none(cloud: LocalCloud) -> None:  # noqa: F811
    plain = make_client(cloud, "sqs")
    url = plain.create_queue(QueueName="q")["QueueUrl"]
    own = "Root=1-6b0e97ed-000000000000000000000000;Parent=0000000000000001;Sampled=1"
    traced(make_client(cloud, "sqs")).send_message(
        QueueUrl=url, MessageBody="a",
        MessageSystemAttributes={"AWSTraceHeader": {"DataType": "String", "StringValue": own}})
    assert received_trace(plain, url) == own
    url2 = plain.create_queue(QueueName="q2")["QueueUrl"]
    plain.send_message(QueueUrl=url2, MessageBody="b")
    assert received_trace(plain, url2) is None
