"""The patched localstripe: loopback only, our state dir, Stripe's test tokens, declines and idempotency.

Each test talks to a real child process through the official stripe client, as the billing
function does; every patch in stagewise/stripe_local.py has a test here.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
import stripe

from stagewise.errors import UserError
from stagewise.stripe_local import IDEMPOTENCY_FILE, LOCAL_SECRET_KEY, STATE_FILE, LocalStripe
from tests.helpers import free_port

CHARGE = {"amount": 4000, "currency": "usd", "description": "Scratch charge", "source": "tok_visa"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalStripe]:
    local = LocalStripe(tmp_path / "stripe")
    local.start()
    try:
        yield local
    finally:
        local.stop()


def client_for(server: LocalStripe) -> stripe.StripeClient:
    return stripe.StripeClient(LOCAL_SECRET_KEY, base_addresses={"api": server.base_url or ""}, max_network_retries=0)


def test_it_listens_on_loopback_only(server: LocalStripe) -> None:
    url = urlparse(server.base_url)
    assert url.hostname == "127.0.0.1"
    own_address = _non_loopback_address()
    if own_address is None:
        return  # a machine with only loopback: the listening address above is the whole check
    with socket.socket() as probe:
        probe.settimeout(1)
        assert probe.connect_ex((own_address, url.port)) != 0


def test_a_port_can_be_chosen(tmp_path: Path) -> None:
    port = free_port()
    with LocalStripe(tmp_path, port=port) as local:
        assert local.base_url == f"http://127.0.0.1:{port}"


def test_a_busy_port_is_a_user_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(UserError, match="cannot listen on 127.0.0.1:"):
            LocalStripe(tmp_path, port=busy.getsockname()[1]).start()


def test_a_call_made_right_after_launch_waits_for_the_server_instead_of_failing(tmp_path: Path) -> None:
    # dev announces the API without waiting for the local Stripe: its first caller must not be refused
    local = LocalStripe(tmp_path)
    try:
        url = local.launch()  # returns before the child has imported anything
        client = stripe.StripeClient(LOCAL_SECRET_KEY, base_addresses={"api": url}, max_network_retries=0)
        charge = client.v1.charges.create(params=CHARGE)
        assert charge.status == "succeeded"
        assert local.wait_ready() == url
    finally:
        local.stop()


def test_on_first_connection_the_process_starts_only_when_called(tmp_path: Path) -> None:
    local = LocalStripe(tmp_path)
    try:
        url = local.launch(on_first_connection=True)
        time.sleep(0.5)
        assert not local.started  # nothing called it yet: no process, no CPU spent
        client = stripe.StripeClient(LOCAL_SECRET_KEY, base_addresses={"api": url}, max_network_retries=0)
        assert client.v1.charges.create(params=CHARGE).status == "succeeded"
        assert local.started and local.wait_ready() == url
    finally:
        local.stop()


def test_stop_before_any_call_closes_the_socket_and_starts_nothing(tmp_path: Path) -> None:
    local = LocalStripe(tmp_path)
    url = local.launch(on_first_connection=True)
    local.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/charges", timeout=2)
    assert not local.started
    with pytest.raises(UserError, match="stopped before it started"):
        local.wait_ready()


def test_tok_visa_is_charged(server: LocalStripe) -> None:
    charge = client_for(server).v1.charges.create(params=CHARGE)

    assert (charge.status, charge.paid, charge.amount, charge.currency) == ("succeeded", True, 4000, "usd")
    assert [found["id"] for found in server.charges()] == [charge.id]


def test_a_test_token_can_be_used_again(server: LocalStripe) -> None:
    client = client_for(server)
    client.v1.charges.create(params=CHARGE)
    client.v1.charges.create(params=CHARGE)

    assert len(server.charges()) == 2


def test_tok_charge_declined_is_declined_as_stripe_does(server: LocalStripe) -> None:
    with pytest.raises(stripe.CardError) as declined:
        client_for(server).v1.charges.create(params={**CHARGE, "source": "tok_chargeDeclined"})

    error = declined.value
    assert (error.http_status, error.code, error.user_message) == (402, "card_declined", "Your card was declined.")
    assert error.error is not None
    assert (error.error.type, error.error.decline_code) == ("card_error", "generic_decline")
    assert [charge["status"] for charge in server.charges()] == ["failed"]


def test_insufficient_funds_has_its_own_decline_code(server: LocalStripe) -> None:
    with pytest.raises(stripe.CardError) as declined:
        client_for(server).v1.charges.create(params={**CHARGE, "source": "tok_chargeDeclinedInsufficientFunds"})

    assert declined.value.error is not None
    assert declined.value.error.decline_code == "insufficient_funds"
    assert declined.value.user_message == "Your card has insufficient funds."


def test_an_unknown_token_is_resource_missing_on_source(server: LocalStripe) -> None:
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client_for(server).v1.charges.create(params={**CHARGE, "source": "tok_nonsense"})

    assert (missing.value.http_status, missing.value.code, missing.value.param) == (400, "resource_missing", "source")
    assert server.charges() == []


def test_the_same_idempotency_key_replays_the_first_charge(server: LocalStripe) -> None:
    client = client_for(server)

    first = client.v1.charges.create(params=CHARGE, options={"idempotency_key": "order-1"})
    again = client.v1.charges.create(params=CHARGE, options={"idempotency_key": "order-1"})

    assert again.id == first.id
    assert again.last_response is not None
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"
    assert len(server.charges()) == 1


def test_a_replayed_decline_is_the_same_decline(server: LocalStripe) -> None:
    client = client_for(server)
    declined = {**CHARGE, "source": "tok_chargeDeclined"}
    messages = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as error:
            client.v1.charges.create(params=declined, options={"idempotency_key": "order-2"})
        messages.append(error.value.json_body)

    assert messages[0] == messages[1]
    assert len(server.charges()) == 1


def test_the_same_key_with_other_parameters_is_an_idempotency_error(server: LocalStripe) -> None:
    client = client_for(server)
    client.v1.charges.create(params=CHARGE, options={"idempotency_key": "order-3"})

    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        client.v1.charges.create(params={**CHARGE, "amount": 5000}, options={"idempotency_key": "order-3"})
    assert len(server.charges()) == 1


def test_keys_are_scoped_by_api_key(server: LocalStripe) -> None:
    other = stripe.StripeClient("sk_test_someone_else", base_addresses={"api": server.base_url or ""})
    client_for(server).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-4"})
    other.v1.charges.create(params=CHARGE, options={"idempotency_key": "order-4"})

    assert len(server.charges()) == 2


def test_state_is_kept_in_our_directory_and_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "stripe"
    with LocalStripe(state) as local:
        charge = client_for(local).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-5"})
    assert {STATE_FILE, IDEMPOTENCY_FILE} <= {path.name for path in state.iterdir()}

    with LocalStripe(state) as again:
        assert [found["id"] for found in again.charges()] == [charge.id]
        replay = client_for(again).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-5"})
        assert replay.id == charge.id


def test_two_instances_do_not_share_state(tmp_path: Path) -> None:
    with LocalStripe(tmp_path / "a") as first, LocalStripe(tmp_path / "b") as second:
        client_for(first).v1.charges.create(params=CHARGE)

        assert len(first.charges()) == 1
        assert second.charges() == []


def test_stop_ends_the_process_and_frees_the_port(tmp_path: Path) -> None:
    local = LocalStripe(tmp_path)
    url = local.start()
    local.stop()
    local.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v1/charges", timeout=2)


def test_it_runs_as_a_module(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "stagewise.stripe_local", "--port", "0", "--state-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
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


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_a_key_older_than_24_hours_charges_again(tmp_path: Path) -> None:
    import json

    state = tmp_path / "stripe"
    with LocalStripe(state) as local:
        client_for(local).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-6"})
    saved = json.loads((state / IDEMPOTENCY_FILE).read_text())
    for entry in saved.values():
        entry["at"] -= 24 * 3600 + 1
    (state / IDEMPOTENCY_FILE).write_text(json.dumps(saved))

    with LocalStripe(state) as again:
        client_for(again).v1.charges.create(params=CHARGE, options={"idempotency_key": "fresh"})
        assert len(json.loads((state / IDEMPOTENCY_FILE).read_text())) == 1  # the expired entry was dropped
        client_for(again).v1.charges.create(params=CHARGE, options={"idempotency_key": "order-6"})
        assert len(again.charges()) == 3  # order-6, fresh, and order-6 again: its key had expired
