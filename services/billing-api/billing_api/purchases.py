"""Announcing a purchase on the note-purchased topic, without ever losing one the card paid for.

Data flow: after Stripe charged, `announce()` publishes `{"amount", "description"}` (JSON) to
`TOPIC_ARN`, trying `PUBLISH_ATTEMPTS` times with a growing pause. If SNS still fails, the
message goes to the SQS *outbox* queue (`OUTBOX_QUEUE_URL`) and the purchase still succeeds.
The outbox is drained back into the topic by `drain_outbox()`: the billing function calls it
after a publish that worked (at most once per `DRAIN_INTERVAL_SECONDS` per container), and
`billing_api.outbox.handler` does it on a schedule. A message is deleted from the outbox only
after SNS accepted it; a drain that fails stops and makes the rest visible again for the next, so
delivery is at least once — each message carries the Stripe charge id (`chargeId` attribute)
for a subscriber that wants to drop duplicates.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from billing_api.payments import DESCRIPTION
from billing_api.settings import BillingSettings
from libs import aws
from libs.observability import logger

PUBLISH_ATTEMPTS = 3
BACKOFF_SECONDS = 0.05  # 0.05 s, then 0.1 s between attempts
DRAIN_INTERVAL_SECONDS = 60.0
DRAIN_BATCH = 10
AWS_ERRORS = (BotoCoreError, ClientError)


class Delivery(enum.Enum):
    """Where a purchase message went."""

    PUBLISHED = "published"
    OUTBOXED = "outboxed"


def purchase_message(amount_cents: int) -> str:
    """The message subscribers receive: `{"amount": <cents>, "description": "Scratch charge"}`."""
    return json.dumps({"amount": amount_cents, "description": DESCRIPTION})


def announce(
    settings: BillingSettings, *, message: str, charge_id: str, sleep: Callable[[float], None] = time.sleep
) -> Delivery:
    """Publish `message`; after `PUBLISH_ATTEMPTS` failures keep it in the outbox instead."""
    for attempt in range(PUBLISH_ATTEMPTS):
        try:
            publish(settings, message=message, charge_id=charge_id)
        except AWS_ERRORS as exc:
            logger().warning("publish failed", extra={"attempt": attempt + 1, "error": type(exc).__name__})
            if attempt + 1 < PUBLISH_ATTEMPTS:
                sleep(BACKOFF_SECONDS * 2**attempt)
            continue
        drain_if_due(settings)
        return Delivery.PUBLISHED
    body = json.dumps({"message": message, "chargeId": charge_id})
    aws.client("sqs").send_message(QueueUrl=settings.outbox_queue_url, MessageBody=body)
    logger().error("purchase kept in the outbox", extra={"chargeId": charge_id})
    return Delivery.OUTBOXED


def publish(settings: BillingSettings, *, message: str, charge_id: str) -> None:
    """One SNS Publish of a purchase message to the topic."""
    aws.client("sns").publish(
        TopicArn=settings.topic_arn,
        Message=message,
        MessageAttributes={"chargeId": {"DataType": "String", "StringValue": charge_id}},
    )


def drain_outbox(settings: BillingSettings, *, max_messages: int = DRAIN_BATCH) -> int:
    """Move up to `max_messages` outbox messages to the topic; returns how many were published."""
    sqs = aws.client("sqs")
    reply = sqs.receive_message(
        QueueUrl=settings.outbox_queue_url, MaxNumberOfMessages=min(max_messages, 10), WaitTimeSeconds=0
    )
    items = reply.get("Messages", [])
    for index, item in enumerate(items):
        body: dict[str, Any] = json.loads(item["Body"])
        try:
            publish(settings, message=body["message"], charge_id=body["chargeId"])
        except AWS_ERRORS:
            _release(sqs, settings.outbox_queue_url, items[index:])
            raise
        sqs.delete_message(QueueUrl=settings.outbox_queue_url, ReceiptHandle=item["ReceiptHandle"])
    return len(items)


def _release(sqs: Any, queue_url: str, items: list[dict[str, Any]]) -> None:
    """Make messages this drain could not publish visible again at once, for the next drain."""
    for item in items:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=item["ReceiptHandle"], VisibilityTimeout=0)


class _DrainClock:
    """When this container last drained the outbox (per-container state, like the client caches)."""

    last = float("-inf")


def drain_if_due(settings: BillingSettings) -> None:
    """Drain the outbox if this container has not done so for `DRAIN_INTERVAL_SECONDS`; never raises."""
    now = time.monotonic()
    if now - _DrainClock.last < DRAIN_INTERVAL_SECONDS:
        return
    _DrainClock.last = now
    try:
        moved = drain_outbox(settings)
    except AWS_ERRORS as exc:
        logger().warning("outbox drain failed; will retry later", extra={"error": type(exc).__name__})
        return
    if moved:
        logger().info("outbox drained", extra={"published": moved})


def reset() -> None:
    """Make the next successful publish drain the outbox again (tests; a new container starts so)."""
    _DrainClock.last = float("-inf")
