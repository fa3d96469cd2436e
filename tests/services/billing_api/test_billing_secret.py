"""The Stripe key is read from SSM once per container and never shows in a log line or a response."""

from __future__ import annotations

import logging

import pytest
from billing_fixtures import SECRET, World


def test_the_key_never_appears_in_logs_or_responses(
    world: World, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.helpers import free_port

    caplog.set_level(logging.DEBUG)  # every logger, every level: boto, stripe, urllib3, Powertools
    replies = [
        world.call({"storage": 10, "source": "tok_visa"}, headers={"Idempotency-Key": "secret-1"}),
        world.call({"storage": 10, "source": "tok_visa"}, headers={"Idempotency-Key": "secret-1"}),
        world.call({"storage": 10, "source": "tok_chargeDeclined"}),
        world.call({"storage": 0, "source": "tok_visa"}),
        world.call({"storage": 10, "source": "not-a-source"}),
    ]
    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    from billing_fixtures import reset_containers

    reset_containers()
    replies.append(world.call({"storage": 10, "source": "tok_visa"}))

    assert [reply.status for reply in replies] == [200, 200, 402, 400, 400, 502]
    output = capsys.readouterr()
    assert caplog.records, "the handler logged nothing: the check below would prove nothing"
    for text in (caplog.text, output.out, output.err, *(str(reply.raw) for reply in replies)):
        assert SECRET not in text


def test_the_key_is_read_from_ssm_once_per_container(world: World) -> None:
    import boto3
    from aws_lambda_powertools.utilities.parameters import base as parameters_base
    from aws_lambda_powertools.utilities.parameters.ssm import SSMProvider

    calls: list[str] = []
    ssm = boto3.client("ssm")
    ssm.meta.events.register("before-call.ssm.GetParameter", lambda **kwargs: calls.append("GetParameter"))
    parameters_base.DEFAULT_PROVIDERS["ssm"] = SSMProvider(boto3_client=ssm)  # the provider get_parameter uses

    for _ in range(3):
        assert world.call({"storage": 10, "source": "tok_visa"}).status == 200

    assert calls == ["GetParameter"]


def test_a_stage_without_its_own_key_uses_its_fallback_stages(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from billing_fixtures import reset_containers

    monkeypatch.setenv("STRIPE_SECRET_PARAMETER", "/notes/pr-7/STRIPE_SECRET_KEY")  # never set
    monkeypatch.setenv("STRIPE_SECRET_FALLBACK_PARAMETER", "/notes/test/STRIPE_SECRET_KEY")
    reset_containers()

    assert world.call({"storage": 10, "source": "tok_visa"}).status == 200

    boto3.client("ssm").put_parameter(Name="/notes/pr-7/STRIPE_SECRET_KEY", Value="sk_test_pr7_own", Type="SecureString")
    reset_containers()  # a new container sees the stage's own key from now on
    from billing_api import payments
    from billing_api.settings import BillingSettings

    from libs import settings

    assert payments.key_parameter(settings.load(BillingSettings)) == "/notes/pr-7/STRIPE_SECRET_KEY"
