"""`stagewise messages [--stage local] [--json]`: the SMS the local cloud has "sent" (nothing leaves the machine).

Data flow: the stage's local cloud endpoint (`localstage.connect`) → `stagewise.cloud.sent_sms`
(moto records every SMS publish) → one row per message, oldest first: time, phone, text.
moto keeps no send time; a row shows the cloud's `sent_at` stamp when it provides one, else "-".
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from stagewise.options import SetOption


def rows(sent: list[dict[str, Any]], *, phone: str | None = None) -> list[dict[str, Any]]:
    """The CLI's view of `sent_sms` output: phone, text, time (ISO 8601 or None), message id."""
    return [
        {"phone": sms.get("phone_number"), "text": sms.get("message"), "time": sms.get("sent_at"),
         "message_id": sms.get("message_id")}
        for sms in sent
        if phone is None or sms.get("phone_number") == phone
    ]


def messages(
    stage: Annotated[str, typer.Option("--stage", "-s", help="A local stage (its local cloud).")] = "local",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list of {phone, text, time, message_id}.")] = False,
    phone: Annotated[str | None, typer.Option("--phone", help="Only messages to this number (E.164).")] = None,
    set_: SetOption = None,
) -> None:
    """List the text messages (SMS) the local cloud has sent, oldest first.

    Example:  stagewise messages --json | jq -r '.[-1].text'
    """
    from stagewise.cloud import sent_sms
    from stagewise.localstage import connect

    found = rows(sent_sms(connect(stage, overrides=set_).endpoint), phone=phone)
    if as_json:
        print(json.dumps(found, indent=2))
        return
    if not found:
        print("no messages sent yet")
        return
    for row in found:
        print(f"{row['time'] or '-':<25} {row['phone']:<16} {row['text']}")


def register(app: typer.Typer) -> None:
    app.command("messages")(messages)
