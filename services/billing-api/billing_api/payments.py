"""Charging a card with Stripe, the secret key read from SSM once per container.

Data flow: `charge(amount_cents=..., source=..., idempotency_key=...)` → `stripe_client()`
reads the key through Powertools Parameters (`get_parameter(name, decrypt=True, max_age=...)`,
cached in the container; a short-lived stage without its own key reads its `secrets_from`
stage's, named by STRIPE_SECRET_FALLBACK_PARAMETER) and reuses one `StripeClient` per key (one HTTP session, kept alive)
→ `charges.create`. Stripe's outcomes become this module's:

    success                                     → the charge id
    CardError (declined, expired, bad CVC...)   → CardDeclined(<Stripe's message>)
    InvalidRequestError on `source` (no such token) → InvalidSource(<Stripe's message>)
    APIConnectionError / APIError (Stripe 5xx)  → PaymentUnavailable (nothing was charged)
    anything else (bad key, bad request)        → raised as is (the API answers 500)

The key is never logged, put in an exception message or returned.
"""

from __future__ import annotations

import functools
import logging

import stripe
from aws_lambda_powertools.utilities.parameters import get_parameter
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from billing_api.settings import BillingSettings

CURRENCY = "usd"
DESCRIPTION = "Scratch charge"
SECRET_MAX_AGE_SECONDS = 3600  # re-read at most hourly, so a rotated key reaches warm containers
TIMEOUT_SECONDS = (2.0, 6.0)  # connect, read: well inside the function's timeout
MAX_NETWORK_RETRIES = 1  # safe: every charge carries an idempotency key

# Loggers that would write the key if the root logger ran at DEBUG (AWS_LAMBDA_LOG_LEVEL=DEBUG, or a
# local runtime that turns everything up): botocore.parsers logs every response body — the decrypted
# SSM value included — and the stripe library logs request details. Capped whatever the level.
for _name in ("botocore.parsers", "stripe"):
    logging.getLogger(_name).setLevel(logging.INFO if _name.startswith("botocore") else logging.WARNING)


class CardDeclined(Exception):
    """Stripe refused the card; `message` is Stripe's text for the customer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidSource(Exception):
    """Stripe does not know the card source the caller sent; `message` is Stripe's text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PaymentUnavailable(Exception):
    """Stripe could not be reached or failed on its side; nothing was charged."""


def charge(settings: BillingSettings, *, amount_cents: int, source: str, idempotency_key: str | None) -> str:
    """Charge `amount_cents` (usd) to `source`; returns the Stripe charge id."""
    options = {"idempotency_key": idempotency_key} if idempotency_key else {}
    params = {"amount": amount_cents, "currency": CURRENCY, "description": DESCRIPTION, "source": source}
    try:
        created = stripe_client(settings).v1.charges.create(params=params, options=options)
    except stripe.CardError as exc:
        raise CardDeclined(exc.user_message or "Your card was declined.") from exc
    except stripe.InvalidRequestError as exc:
        if exc.param != "source":
            raise
        raise InvalidSource(exc.user_message or "no such source") from exc
    except (stripe.APIConnectionError, stripe.APIError) as exc:
        raise PaymentUnavailable("the payment provider could not be reached; nothing was charged, try again") from exc
    return created.id


def stripe_client(settings: BillingSettings) -> stripe.StripeClient:
    """The container's Stripe client for the current key (the key is read through the SSM cache)."""
    key = get_parameter(key_parameter(settings), decrypt=True, max_age=SECRET_MAX_AGE_SECONDS)
    return _client_for(str(key), settings.stripe_api_base)


@functools.lru_cache(maxsize=4)
def key_parameter(settings: BillingSettings) -> str:
    """The stage's own key parameter, or the fallback stage's while it has none (decided once per container)."""
    own, fallback = settings.stripe_secret_parameter, settings.stripe_secret_fallback_parameter
    if not fallback:
        return own
    try:
        get_parameter(own, decrypt=True, max_age=SECRET_MAX_AGE_SECONDS)
    except GetParameterError:
        return fallback
    return own


@functools.lru_cache(maxsize=2)
def _client_for(key: str, api_base: str) -> stripe.StripeClient:
    addresses = {"api": api_base} if api_base else None
    return stripe.StripeClient(
        key,
        base_addresses=addresses,
        max_network_retries=MAX_NETWORK_RETRIES,
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
    )


def reset() -> None:
    """Forget the cached clients and the cached key (tests; a new container does this by starting)."""
    from aws_lambda_powertools.utilities import parameters

    _client_for.cache_clear()
    key_parameter.cache_clear()
    parameters.clear_caches()
