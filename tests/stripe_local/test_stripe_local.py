"""The app's local Stripe (tools/stripe_local.py): our state dir, Stripe's test tokens, declines and idempotency.

Each test runs it as `stagewise dev` does, through its declaration in stagewise.toml and the
toolkit's launcher (the launcher itself: tests/stagewise/test_standins.py), and talks to it
through the official stripe client, as the billing function does; every patch has a test here.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import stripe

from stagewise.config import load_project
from stagewise.standins import LocalStandin
from tools.stripe_local import IDEMPOTENCY_FILE, STATE_FILE, charges

ROOT = Path(__file__).resolve().parents[2]
DECLARED = load_project(ROOT / "stagewise.toml").standins["stripe"]
LOCAL_SECRET_KEY = DECLARED.secret_value or ""

CHARGE = {"amount": 4000, "currency": "usd", "description": "Scratch charge", "source": "tok_visa"}


def local_stripe(state_dir: Path) -> LocalStandin:
    """The local Stripe as declared in stagewise.toml, its state in `state_dir`."""
    return LocalStandin("stripe", DECLARED, state_dir=state_dir, root=ROOT)


def charges_of(server: LocalStandin) -> list[dict]:
    return charges(server.base_url or "", LOCAL_SECRET_KEY)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalStandin]:
    local = local_stripe(tmp_path / "stripe")
    local.start()
    try:
        yield local
    finally:
        local.stop()


def client_for(server: LocalStandin) -> stripe.StripeClient:
    return stripe.StripeClient(LOCAL_SECRET_KEY, base_addresses={"api": server.base_url or ""}, max_network_retries=0)








def test_a_call_made_right_after_launch_waits_for_the_server_instead_of_failing(tmp_path: Path) -> None:
    # dev announces the API without waiting for the local Stripe: its first caller must not be refused
    local = local_stripe(tmp_path)
    try:
        url = local.launch()  # returns before the child has imported anything
        client = stripe.StripeClient(LOCAL_SECRET_KEY, base_addresses={"api": url}, max_network_retries=0)
        charge = client.v1.charges.create(params=CHARGE)
        assert charge.status == "succeeded"
        assert local.wait_ready() == url
    finally:
        local.stop()






def test_tok_visa_is_charged(server: LocalStandin) -> None:
    charge = client_for(server).v1.charges.create(params=CHARGE)

    assert (charge.status, charge.paid, charge.amount, charge.currency) == ("succeeded", True, 4000, "usd")
    assert [found["id"] for found in charges_of(server)] == [charge.id]


def test_a_test_token_can_be_used_again(server: LocalStandin) -> None:
    client = client_for(server)
    client.v1.charges.create(params=CHARGE)
    client.v1.charges.create(params=CHARGE)

    assert len(charges_of(server)) == 2


def test_tok_charge_declined_is_declined_as_stripe_does(server: LocalStandin) -> None:
    with pytest.raises(stripe.CardError) as declined:
        client_for(server).v1.charges.create(params={**CHARGE, "source": "tok_chargeDeclined"})

    error = declined.value
    assert (error.http_status, error.code, error.user_message) == (402, "card_declined", "Your card was declined.")
    assert error.error is not None
    assert (error.error.type, error.error.decline_code) == ("card_error", "generic_decline")
    assert [charge["status"] for charge in charges_of(server)] == ["failed"]


def test_insufficient_funds_has_its_own_decline_code(server: LocalStandin) -> None:
    with pytest.raises(stripe.CardError) as declined:
        client_for(server).v1.charges.create(params={**CHARGE, "source": "tok_chargeDeclinedInsufficientFunds"})

    assert declined.value.error is not None
    assert declined.value.error.decline_code == "insufficient_funds"
    assert declined.value.user_message == "Your card has insufficient funds."


def test_an_unknown_token_is_resource_missing_on_source(server: LocalStandin) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client_for(server).v1.charges.create(params={**CHARGE, "source": "tok_nonsense"})

    assert (missing.value.http_status, missing.value.code, missing.value.param) == (400, "resource_missing", "source")
    assert charges_of(server) == []


def test_the_same_idempotency_key_replays_the_first_charge(server: LocalStandin) -> None:
    client = client_for(server)

    first = client.v1.charges.create(params=CHARGE, options={"idempotency_key": "order-1"})
    again = client.v1.charges.create(params=CHARGE, options={"idempotency_key": "order-1"})

    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(charges_of(server)) == 1


def test_a_replayed_decline_is_the_same_decline(server: LocalStandin) -> None:
    client = client_for(server)
    declined = {**CHARGE, "source": "tok_chargeDeclined"}
    messages = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as error:
            client.v1.charges.create(params=declined, options={"idempotency_key": "order-2"})
        messages.append(error.value.json_body)

    assert messages[0] == messages[1]
    assert len(charges_of(server)) == 1


def test_the_same_key_with_other_parameters_is_an_idempotency_error(server: LocalStandin) -> None:
    client = client_for(server)
    client.v1.charges.create(params=CHARGE, options={"idempotency_key": "order-3"})

    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        client.v1.charges.create(params={**CHARGE, "amount": 5000}, options={"idempotency_key": "order-3"})
    assert len(charges_of(server)) == 1


def test_keys_are_scoped_by_api_key(server: LocalStandin) -> None:
    other = stripe.StripeClient("sk_test_someone_else", base_addresses={"api": server.base_url or ""})
    client_for(server).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-4"})
    other.v1.charges.create(params=CHARGE, options={"idempotency_key": "order-4"})

    assert len(charges_of(server)) == 2


def test_state_is_kept_in_our_directory_and_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "stripe"
    with local_stripe(state) as local:
        charge = client_for(local).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-5"})
    assert {STATE_FILE, IDEMPOTENCY_FILE} <= {path.name for path in state.iterdir()}

    with local_stripe(state) as again:
        assert [found["id"] for found in charges_of(again)] == [charge.id]
        replay = client_for(again).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-5"})
        assert replay.id == charge.id


def test_two_instances_do_not_share_state(tmp_path: Path) -> None:
    with local_stripe(tmp_path / "a") as first, local_stripe(tmp_path / "b") as second:
        client_for(first).v1.charges.create(params=CHARGE)

        assert len(charges_of(first)) == 1
        assert charges_of(second) == []




def test_it_runs_as_a_module(tmp_path: Path) -> None:
    command = [sys.executable, "-m", DECLARED.module, "--port", "0", "--state-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("stripe_local listening on http://127.0.0.1:")
        base = line.rsplit(" ", 1)[1].strip()
        reply = httpx.get(base + "/v1/charges", headers={"Authorization": f"Bearer {LOCAL_SECRET_KEY}"}, timeout=5)
        assert reply.status_code == 200
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0




def test_a_key_older_than_24_hours_charges_again(tmp_path: Path) -> None:
    import json

    state = tmp_path / "stripe"
    with local_stripe(state) as local:
        client_for(local).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-6"})
    saved = json.loads((state / IDEMPOTENCY_FILE).read_text())
    for entry in saved.values():
        entry["at"] -= 24 * 3600 + 1
    (state / IDEMPOTENCY_FILE).write_text(json.dumps(saved))

    with local_stripe(state) as again:
        client_for(again).v1.charges.create(params=CHARGE, options={"idempotency_key": "fresh"})
        assert len(json.loads((state / IDEMPOTENCY_FILE).read_text())) == 1  # the expired entry was dropped
        client_for(again).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-6"})
        assert len(charges_of(again)) == 3  # order-6, fresh, and order-6 again: its key had expired
