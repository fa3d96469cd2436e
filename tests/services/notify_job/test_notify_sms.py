"""notify-job: each purchase on the topic becomes one SMS to the admin; failures raise for Lambda to retry."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from notify_fixtures import ADMIN_PHONE, context, purchase, sns_event


def test_a_purchase_texts_the_admin(sms: Callable[[], list[tuple[str, str]]]) -> None:
    from notify_job.handler import handler

    result = handler(sns_event(purchase(4000)), context())

    assert result == {"sent": 1}
    assert sms() == [(ADMIN_PHONE, "Charged 4000 for Scratch charge")]


def test_every_record_of_a_batch_is_texted(sms: Callable[[], list[tuple[str, str]]]) -> None:
    from notify_job.handler import handler

    handler(sns_event(purchase(400), purchase(10100)), context())

    assert sms() == [(ADMIN_PHONE, "Charged 400 for Scratch charge"), (ADMIN_PHONE, "Charged 10100 for Scratch charge")]


def test_the_phone_comes_from_the_stage_config(sms: Callable[[], list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    from notify_job.handler import handler

    monkeypatch.setenv("ADMIN_PHONE", "+15555550199")

    handler(sns_event(purchase(20000)), context())

    assert sms() == [("+15555550199", "Charged 20000 for Scratch charge")]


def test_a_failed_send_raises_so_lambda_retries(sms: Callable[[], list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError
    from notify_job.handler import handler

    monkeypatch.setenv("ADMIN_PHONE", "555-0100")  # SNS refuses a number that is not E.164

    with pytest.raises(ClientError, match="E164"):
        handler(sns_event(purchase(4000)), context())
    assert sms() == []


@pytest.mark.parametrize(
    "message",
    ["not json", "[1, 2]", '{"amount": "4000", "description": "Scratch charge"}', '{"amount": 4000}', '{"amount": true, "description": "x"}'],
)
def test_a_message_that_is_not_a_purchase_raises(sms: Callable[[], list[tuple[str, str]]], message: str) -> None:
    from notify_job.handler import NotAPurchase, handler

    with pytest.raises(NotAPurchase):
        handler(sns_event(message), context())
    assert sms() == []


def test_a_missing_admin_phone_raises_naming_the_variable(sms: Callable[[], list[tuple[str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    from notify_job.handler import handler

    from libs.settings import SettingsError

    monkeypatch.delenv("ADMIN_PHONE")

    with pytest.raises(SettingsError, match="ADMIN_PHONE"):
        handler(sns_event(purchase(4000)), context())
