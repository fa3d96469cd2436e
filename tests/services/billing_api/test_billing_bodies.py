"""POST /billing's body through the handler: a bounded UTF-8 JSON object or a 400 / 415 — nothing charged.

The same screening as notes-api (`libs.bodies`, via `libs.guards.screen_request`); here the
cases that matter for money: `storage` out of range however it is written, and what Stripe never sees.
"""

from __future__ import annotations

import json

import pytest
from billing_fixtures import World

GOOD = {"storage": 10, "source": "tok_visa"}


def _refused(world: World, call, status: int, message: str) -> None:
    before = len(world.charges())  # the local Stripe lives for the whole session
    reply = call()
    assert reply.status == status, reply.body
    assert reply.body["message"] == message
    assert len(world.charges()) == before
    assert world.published() == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (json.dumps([GOOD]).encode(), "body: must be a JSON object"),
        (b'{"storage": ' + b"9" * 5000 + b', "source": "tok_visa"}',
         "storage: number out of range (finite, at most 64 characters)"),
        (b'{"storage": -' + b"9" * 5000 + b', "source": "tok_visa"}',
         "storage: number out of range (finite, at most 64 characters)"),
        (b'{"storage": 1e400, "source": "tok_visa"}', "storage: number out of range (finite, at most 64 characters)"),
        (b'{"storage": Infinity, "source": "tok_visa"}', "body: malformed JSON"),
        (json.dumps(GOOD).encode("utf-16"), "body: must be UTF-8 JSON (UTF-16 and UTF-32 are not accepted)"),
        (b'{"storage": 10, "source": "tok_\xff"}', "body: not valid UTF-8"),
        (b'{"storage": 10, "source": "tok_visa", "storage": 20}', "storage: duplicate key"),
        (b'{"storage": 10, "source": ' + b"[" * 40 + b"]" * 40 + b"}", "body: JSON nested deeper than 32 levels"),
    ],
    ids=["array", "5000-digits", "minus-5000-digits", "overflow", "infinity", "utf-16", "bad-utf8",
         "duplicate-key", "deep"],
)
def test_a_body_that_is_not_a_bounded_json_object_is_400_and_charges_nothing(world: World, raw: bytes, message: str) -> None:
    _refused(world, lambda: world.call(None, raw_body=raw), 400, message)


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        (10**30, "storage: Input should be less than or equal to 100000"),
        (0, "storage: Input should be greater than or equal to 1"),
        (-1, "storage: Input should be greater than or equal to 1"),
        (10.0, "storage: Input should be a valid integer"),
        ("10", "storage: Input should be a valid integer"),
    ],
)
def test_storage_out_of_its_bounds_is_400_naming_storage(world: World, storage: object, message: str) -> None:
    _refused(world, lambda: world.call({"storage": storage, "source": "tok_visa"}), 400, message)


def test_an_upper_case_json_content_type_is_charged(world: World) -> None:
    reply = world.call(GOOD, headers={"Content-Type": "APPLICATION/JSON; Charset=UTF-8"})
    assert (reply.status, reply.body) == (200, {"status": True, "amount": 4000})


def test_another_charset_is_415_and_charges_nothing(world: World) -> None:
    call = lambda: world.call(GOOD, headers={"Content-Type": "application/json; charset=latin-1"})  # noqa: E731
    _refused(world, call, 415, "body: send application/json with charset=utf-8 (the only charset accepted)")


def test_the_document_lists_every_status_billing_can_answer() -> None:
    from billing_api.api import app

    operation = json.loads(app.get_openapi_json_schema())["paths"]["/billing"]["post"]
    assert set(operation["responses"]) == {"200", "400", "401", "402", "403", "409", "413", "414", "415", "422", "429", "500", "502"}
    assert operation["security"] == [{"sigv4": []}]
    for status, response in operation["responses"].items():
        ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert ref == {"200": "BillingResponse", "403": "GatewayError", "414": "GatewayError", "429": "GatewayError"}.get(status, "ApiError")
