"""Fixtures for the notify-job tests: moto in-process, the function's env, real SNS events.

Data flow: `sms` starts moto, sets ADMIN_PHONE and friends, resets the per-container caches and
yields a function that reads the SMS moto's SNS backend recorded (phone, text).
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
for entry in (ROOT / "services" / "notify-job", ROOT):
    if str(entry) not in sys.path:
        sys.path.insert(0, str(entry))

REGION = "us-east-1"
ACCOUNT = "123456789012"
ADMIN_PHONE = "+15555550100"
TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:test-note-purchased"
ENV = {
    "STAGE": "test",
    "LOG_LEVEL": "INFO",
    "POWERTOOLS_SERVICE_NAME": "notify-job",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "ADMIN_PHONE": ADMIN_PHONE,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}


@dataclass(frozen=True)
class FakeContext:
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_name: str = "test-notes-notify-job-Notify"
    function_version: str = "$LATEST"
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-notes-notify-job-Notify"
    memory_limit_in_mb: int = 256

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def sns_event(*messages: str) -> dict[str, Any]:
    """The event SNS gives a subscribed Lambda function (one record per message)."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC_ARN}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": TOPIC_ARN,
                    "Subject": None,
                    "Message": message,
                    "Timestamp": "2026-11-27T03:00:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {},
                },
            }
            for message in messages
        ]
    }


def purchase(amount: int) -> str:
    return json.dumps({"amount": amount, "description": "Scratch charge"})


@pytest.fixture
def sms(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], list[tuple[str, str]]]]:
    from moto import mock_aws
    from moto.sns.models import sns_backends

    from libs import aws, settings

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        settings.load.cache_clear()
        try:
            yield lambda: list(sns_backends[ACCOUNT][REGION].sms_messages.values())
        finally:
            aws.reset()
            settings.load.cache_clear()
