"""`Idempotency-Key` on POST /billing: one charge per caller and key, the first answer replayed."""

from __future__ import annotations

import threading

from billing_fixtures import World

VISA = {"storage": 11, "source": "tok_visa"}


def test_the_same_key_twice_charges_once_and_replays_the_first_answer(world: World) -> None:
    before = len(world.paid_charges())

    first = world.call(VISA, headers={"Idempotency-Key": "order-1"})
    second = world.call(VISA, headers={"Idempotency-Key": "order-1"})

    assert (first.status, first.body) == (200, {"status": True, "amount": 2200})
    assert (second.status, second.body) == (first.status, first.body)
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert len(world.paid_charges()) == before + 1
    assert world.published() == [{"amount": 2200, "description": "Scratch charge"}]


def test_a_lower_case_header_is_the_same_key(world: World) -> None:
    before = len(world.paid_charges())

    world.call(VISA, headers={"Idempotency-Key": "order-2"})
    again = world.call(VISA, headers={"idempotency-key": "order-2"})

    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(world.paid_charges()) == before + 1


def test_a_decline_is_replayed_too(world: World) -> None:
    declined = {"storage": 5, "source": "tok_chargeDeclined"}

    first = world.call(declined, headers={"Idempotency-Key": "order-3"})
    second = world.call(declined, headers={"Idempotency-Key": "order-3"})

    assert first.status == second.status == 402
    assert second.body == {"message": "Your card was declined."}
    assert second.headers.get("Idempotent-Replayed") == "true"


def test_the_same_key_with_another_body_answers_422_and_charges_nothing_more(world: World) -> None:
    world.call(VISA, headers={"Idempotency-Key": "order-4"})
    before = len(world.paid_charges())

    reply = world.call({"storage": 12, "source": "tok_visa"}, headers={"Idempotency-Key": "order-4"})

    assert reply.status == 422
    assert "different body" in reply.body["message"]
    assert len(world.paid_charges()) == before


def test_without_a_key_every_call_is_a_purchase(world: World) -> None:
    before = len(world.paid_charges())

    world.call(VISA)
    world.call(VISA)

    assert len(world.paid_charges()) == before + 2


def test_an_empty_or_oversized_key_answers_400(world: World) -> None:
    assert world.call(VISA, headers={"Idempotency-Key": ""}).status == 400
    assert world.call(VISA, headers={"Idempotency-Key": "k" * 256}).status == 400


def test_ten_concurrent_calls_with_one_key_charge_once(world: World) -> None:
    before = len(world.paid_charges())
    replies = []
    start = threading.Barrier(10)

    def buy() -> None:
        start.wait()
        replies.append(world.call(VISA, headers={"Idempotency-Key": "order-5"}))

    threads = [threading.Thread(target=buy) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(replies) == 10
    assert {reply.status for reply in replies} <= {200, 409}
    assert [reply.body for reply in replies if reply.status == 200][0] == {"status": True, "amount": 2200}
    assert all(reply.body["message"].startswith("a request with this Idempotency-Key") for reply in replies if reply.status == 409)
    assert len(world.paid_charges()) == before + 1
    late = world.call(VISA, headers={"Idempotency-Key": "order-5"})
    assert (late.status, late.headers.get("Idempotent-Replayed")) == (200, "true")
