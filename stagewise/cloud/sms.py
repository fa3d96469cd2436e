"""SMS the local cloud has "sent": stamped with their send time and served at /_stagewise/sms.

Data flow: `install()` (server process only) makes moto's `sns.SMS` record `sent_at`
from the cloud's clock, which replays the recorded time for journaled requests, so a
restart keeps the original times. `listing()` reads the SNS backends of every account
and region directly — cheaper than moto's /moto-api/data.json, which walks every model
(and answers 500 once a Lambda function exists, as it tries to reach Docker).
"""

from __future__ import annotations

from typing import Any

from stagewise.cloud.determinism import CLOCK
from stagewise.cloud.layout import SMS_PATH

__all__ = ["SMS_PATH", "install", "listing"]


def install() -> None:
    from moto.sns import models

    original = models.SMS.__init__
    if getattr(original, "_stagewise", False):
        return

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        # The request's recorded time: identical live and on replay.
        self.sent_at = CLOCK.request_at if CLOCK.request_at is not None else CLOCK.time()

    init._stagewise = True  # type: ignore[attr-defined]
    models.SMS.__init__ = init


def listing() -> list[dict[str, Any]]:
    """Every SMS of every account and region, oldest first."""
    from moto.sns.models import sns_backends

    found = []
    for account, regions in sns_backends.items():
        for region, backend in regions.items():
            for sms in backend.sms_message_objects.values():
                found.append(
                    {
                        "account": account,
                        "region": region,
                        "message_id": sms.message_id,
                        "phone_number": sms.phone_number,
                        "message": sms.message,
                        "sent_at": getattr(sms, "sent_at", None),
                    }
                )
    return sorted(found, key=lambda sms: sms["sent_at"] or 0)
