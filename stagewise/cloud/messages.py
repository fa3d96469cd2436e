"""What the local cloud "sent": SMS messages published through SNS (read by `stagewise messages`).

Data flow: the cloud server stamps every SMS publish with its time and lists them at
`/_stagewise/sms` (stagewise.cloud.sms); `sent_sms` returns them oldest first.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from stagewise.cloud.layout import SMS_PATH
from stagewise.errors import UserError


def sent_sms(endpoint: str, *, account_id: str | None = None) -> list[dict[str, Any]]:
    """Every SMS published to the local cloud at `endpoint` (of one account if given), oldest first:
    account, region, message_id, phone_number, message, sent_at (epoch seconds)."""
    try:
        with urllib.request.urlopen(f"{endpoint}{SMS_PATH}", timeout=10) as answer:
            messages = json.loads(answer.read())
    except OSError as exc:
        raise UserError(f"cannot read sent messages from the local cloud at {endpoint} ({exc}); is it running?") from exc
    return [sms for sms in messages if account_id is None or sms["account"] == account_id]
