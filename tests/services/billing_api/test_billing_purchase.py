"""POST /billing end to end inside one process: moto for AWS, a real local Stripe for the charge.

GIVEN the resources the billing stack deploys, WHEN the handler gets a purchase, THEN the card
is charged the tier's price, the purchase is published once, and failures answer as documented.
"""

from __future__ import annotations

import pytest
from billing_fixtures import BOB, World


def test_a_good_card_is_charged_and_the_purchase_published(world: World) -> None:
    before = len(world.paid_charges())

    reply = world.call({"storage": 10, "source": "tok_visa"})

    assert (reply.status, reply.body) == (200, {"status": True, "amount": 4000})
    charges = world.paid_charges()
    assert len(charges) == before + 1
    assert (charges[-1]["amount"], charges[-1]["currency"], charges[-1]["description"]) == (4000, "usd", "Scratch charge")
    assert world.published() == [{"amount": 4000, "description": "Scratch charge"}]


def test_a_declined_card_answers_402_with_stripes_message_and_publishes_nothing(world: World) -> None:
    reply = world.call({"storage": 101, "source": "tok_chargeDeclined"})

    assert (reply.status, reply.body) == (402, {"message": "Your card was declined."})
    assert world.published() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "tok_visa"}, "storage"),
        ({"storage": 0, "source": "tok_visa"}, "storage"),
        ({"storage": 100_001, "source": "tok_visa"}, "storage"),
        ({"storage": "ten", "source": "tok_visa"}, "storage"),
        ({"storage": 1.5, "source": "tok_visa"}, "storage"),
        ({"storage": 10}, "source"),
        ({"storage": 10, "source": ""}, "source"),
        ({"storage": 10, "source": 42}, "source"),
    ],
)
def test_a_bad_body_answers_400_naming_the_field(world: World, body: dict, field: str) -> None:
    before = len(world.charges())

    reply = world.call(body)

    assert reply.status == 400
    assert reply.body["message"].startswith(f"{field}:")
    assert len(world.charges()) == before
    assert world.published() == []


def test_a_source_stripe_does_not_know_answers_400_naming_source(world: World) -> None:
    reply = world.call({"storage": 10, "source": "tok_nonsense"})

    assert (reply.status, reply.body) == (400, {"message": "source: No such token: 'tok_nonsense'"})
    assert world.published() == []


def test_a_missing_or_malformed_body_answers_400(world: World) -> None:
    assert world.call(None).status == 400
    assert world.call(None, raw_body="{not json").status == 400


def test_no_verified_caller_answers_401(world: World) -> None:
    reply = world.call({"storage": 10, "source": "tok_visa"}, user=None)

    assert (reply.status, reply.body) == (401, {"message": "unauthorized"})
    assert world.published() == []


def test_stripe_unreachable_answers_502_and_publishes_nothing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import free_port

    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")

    reply = world.call({"storage": 10, "source": "tok_visa"}, headers={"Idempotency-Key": "down-1"})

    assert reply.status == 502
    assert "payment provider could not be reached" in reply.body["message"]
    assert world.published() == []


def test_a_retry_after_stripe_was_down_charges(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from billing_fixtures import reset_containers

    from tests.helpers import free_port

    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    assert world.call({"storage": 10, "source": "tok_visa"}, headers={"Idempotency-Key": "down-2"}).status == 502
    monkeypatch.setenv("STRIPE_API_BASE", world.stripe.base_url or "")
    reset_containers()  # a new container sees the restored setting

    reply = world.call({"storage": 10, "source": "tok_visa"}, headers={"Idempotency-Key": "down-2"})

    assert (reply.status, reply.body) == (200, {"status": True, "amount": 4000})
    assert world.published() == [{"amount": 4000, "description": "Scratch charge"}]


def test_an_unexpected_failure_answers_500_with_the_request_id_only(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from billing_api import payments

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(payments, "charge", broken)

    reply = world.call({"storage": 10, "source": "tok_visa"})

    assert reply.status == 500
    assert set(reply.body) == {"message", "requestId"}
    assert "boom" not in reply.raw["body"]


def test_another_callers_key_is_another_purchase(world: World) -> None:
    before = len(world.paid_charges())

    first = world.call({"storage": 10, "source": "tok_visa"}, headers={"Idempotency-Key": "shared"})
    second = world.call({"storage": 10, "source": "tok_visa"}, headers={"Idempotency-Key": "shared"}, user=BOB)

    assert first.status == second.status == 200
    assert "Idempotent-Replayed" not in second.headers
    assert len(world.paid_charges()) == before + 2
