"""What the local cloud "sent": SMS messages published through SNS (read by `stagewise messages`).

Data flow: moto records every SMS publish as an `sns.SMS` model instance; its
`GET /moto-api/data.json` lists them; `sent_sms` returns them oldest first.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from stagewise.errors import UserError


def sent_sms(endpoint: str) -> list[dict[str, Any]]:
    """Every SMS published to the local cloud at `endpoint`: message_id, phone_number, message."""
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=10) as answer:
            data = json.loads(answer.read())
    except OSError as exc:
        raise UserError(f"cannot read sent messages from the local cloud at {endpoint} ({exc}); is it running?") from exc
    return [
        {"message_id": sms.get("message_id"), "phone_number": sms.get("phone_number"), "message": sms.get("message")}
        for sms in data.get("sns", {}).get("SMS", [])
    ]
