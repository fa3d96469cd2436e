"""Fixtures for the notify-job tests: moto in-process, the function's env, real SNS events.

Data flow: `sms` starts moto, sets ADMIN_PHONE and friends, resets the per-container caches and
yields a function that reads the SMS moto's SNS backend recorded (phone, text).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from stagewise.testing import TEST_ACCOUNT, TEST_REGION, add_import_paths, lambda_context, mocked_aws
from stagewise.testing import sns_event as topic_event

ROOT = Path(__file__).resolve().parents[3]
add_import_paths(ROOT / "services" / "notify-job", ROOT)

FUNCTION = "test-notes-notify-job-Notify"
ADMIN_PHONE = "+15555550100"
TOPIC_ARN = f"arn:aws:sns:{TEST_REGION}:{TEST_ACCOUNT}:test-note-purchased"
ENV = {
    "STAGE": "test",
    "LOG_LEVEL": "INFO",
    "POWERTOOLS_SERVICE_NAME": "notify-job",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "ADMIN_PHONE": ADMIN_PHONE,
}


def context() -> Any:
    """A fresh invocation of the notify function."""
    return lambda_context(FUNCTION)


def sns_event(*messages: str) -> dict[str, Any]:
    """The event SNS gives the subscribed function (one record per message) for the purchase topic."""
    return topic_event(*messages, topic_arn=TOPIC_ARN)


def purchase(amount: int) -> str:
    return json.dumps({"amount": amount, "description": "Scratch charge"})


@pytest.fixture
def sms() -> Iterator[Callable[[], list[tuple[str, str]]]]:
    from moto.sns.models import sns_backends

    from libs import aws, settings

    with mocked_aws(ENV):
        aws.reset()
        settings.load.cache_clear()
        try:
            yield lambda: list(sns_backends[TEST_ACCOUNT][TEST_REGION].sms_messages.values())
        finally:
            aws.reset()
            settings.load.cache_clear()
