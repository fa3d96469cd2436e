"""SNS-triggered Lambda: one SMS `Charged <amount> for <description>` to the admin per purchase.

Data flow: the note-purchased topic invokes `handler` asynchronously with an SNS event
(Powertools `SNSEvent`); each record's message is billing-api's JSON `{"amount", "description"}`;
`sms_text` formats it and `send_sms` publishes it to the stage's admin phone (`ADMIN_PHONE`)
through SNS. Any failure raises: Lambda then retries the event twice and, if it still fails,
puts it in the function's dead-letter queue (services/notify-job/stack.py). A message that is
not a purchase raises too, so it ends up in the DLQ for a person to look at rather than vanish.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes import SNSEvent, event_source

from libs import aws
from libs import settings as env
from libs.observability import logger, tracer
from notify_job.settings import NotifySettings


class NotAPurchase(ValueError):
    """The SNS message is not billing-api's `{"amount": int, "description": str}`."""


def sms_text(message: str) -> str:
    """`Charged <amount> for <description>` from a purchase message (amount in cents, as published)."""
    try:
        purchase = json.loads(message)
    except json.JSONDecodeError as exc:
        raise NotAPurchase(f"purchase message is not JSON: {exc.msg}") from exc
    if not isinstance(purchase, dict):
        raise NotAPurchase("purchase message is not a JSON object")
    amount, description = purchase.get("amount"), purchase.get("description")
    if isinstance(amount, bool) or not isinstance(amount, int) or not isinstance(description, str):
        raise NotAPurchase("purchase message needs an integer 'amount' and a string 'description'")
    return f"Charged {amount} for {description}"


def send_sms(phone: str, text: str) -> str:
    """Text `text` to `phone` through SNS (transactional SMS); returns SNS's message id."""
    reply = aws.client("sns").publish(
        PhoneNumber=phone,
        Message=text,
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )
    return reply["MessageId"]


@logger().inject_lambda_context
@tracer().capture_lambda_handler
@event_source(data_class=SNSEvent)
def handler(event: SNSEvent, context: Any) -> dict[str, int]:
    settings = env.load(NotifySettings)
    sent = 0
    for record in event.records:
        text = sms_text(record.sns.message)
        message_id = send_sms(settings.admin_phone, text)
        logger().info("admin notified", extra={"snsMessageId": record.sns.message_id, "smsMessageId": message_id})
        sent += 1
    return {"sent": sent}
