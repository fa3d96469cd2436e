"""A purchase whose SNS publish keeps failing is kept in the outbox and published later, never lost."""

from __future__ import annotations

import boto3
from billing_fixtures import World

VISA = {"storage": 100, "source": "tok_visa"}
MESSAGE = {"amount": 20000, "description": "Scratch charge"}


def break_topic(world: World) -> None:
    boto3.client("sns").delete_topic(TopicArn=world.topic_arn)


def restore_topic(world: World) -> None:
    sns = boto3.client("sns")
    arn = sns.create_topic(Name=world.topic_arn.rsplit(":", 1)[1])["TopicArn"]
    tap_arn = world.sqs.get_queue_attributes(QueueUrl=world.tap_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=tap_arn)


def test_a_failed_publish_still_sells_and_keeps_the_message_in_the_outbox(world: World) -> None:
    break_topic(world)

    reply = world.call(VISA)

    assert (reply.status, reply.body) == (200, {"status": True, "amount": 20000})
    kept = world.outbox()
    assert len(kept) == 1
    assert kept[0]["chargeId"].startswith("ch_")
    assert kept[0]["message"] == '{"amount": 20000, "description": "Scratch charge"}'


def test_the_next_successful_publish_drains_the_outbox(world: World) -> None:
    break_topic(world)
    world.call(VISA)
    restore_topic(world)

    world.call({"storage": 1, "source": "tok_visa"})

    assert sorted(world.published(), key=lambda m: m["amount"]) == [{"amount": 400, "description": "Scratch charge"}, MESSAGE]
    assert world.outbox() == []


def test_the_scheduled_drainer_publishes_what_the_outbox_holds(world: World) -> None:
    from billing_api import outbox
    from billing_fixtures import context

    break_topic(world)
    world.call(VISA)
    world.call(VISA)
    restore_topic(world)

    result = outbox.handler({}, context())

    assert result == {"published": 2}
    assert world.published() == [MESSAGE, MESSAGE]
    assert world.outbox() == []


def test_a_drain_while_sns_still_fails_keeps_the_message(world: World) -> None:
    from billing_api import outbox
    from billing_fixtures import context
    from botocore.exceptions import ClientError

    break_topic(world)
    world.call(VISA)

    try:
        outbox.handler({}, context())
    except ClientError:
        pass
    else:
        raise AssertionError("draining into a missing topic should fail")

    assert len(world.outbox()) == 1
    restore_topic(world)
    assert outbox.handler({}, context()) == {"published": 1}
    assert world.published() == [MESSAGE]
