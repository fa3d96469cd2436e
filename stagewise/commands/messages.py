"""`stagewise messages [--stage local] [--json]`: the SMS the local cloud has "sent" (nothing leaves the machine).

Data flow: the stage's local cloud endpoint (`localstage.connect`) → `stagewise.cloud.sent_sms`
(the cloud stamps every SMS publish with its time) → the stage account's messages, oldest
first: time (ISO 8601, UTC), phone, text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from stagewise.options import SetOption


def rows(sent: list[dict[str, Any]], *, phone: str | None = None) -> list[dict[str, Any]]:
    """The CLI's view of `sent_sms` output: phone, text, time (ISO 8601 or None), message id."""
    return [
        {"phone": sms.get("phone_number"), "text": sms.get("message"), "time": _iso(sms.get("sent_at")),
         "message_id": sms.get("message_id")}
        for sms in sent
        if phone is None or sms.get("phone_number") == phone
    ]


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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

    local = connect(stage, overrides=set_)
    found = rows(sent_sms(local.endpoint, account_id=local.account_id), phone=phone)
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
