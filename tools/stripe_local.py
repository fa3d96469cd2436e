"""Stripe's API on loopback for local stages: localstripe, made to behave like Stripe's test mode.

The notes app's local stand-in for Stripe, declared in stagewise.toml (`[local.standins.stripe]`):
`stagewise dev` (and a local `stagewise invoke`) run it as `python -m tools.stripe_local --fd N
--state-dir D` from the repository root, on a loopback socket they opened, when a service
declares STRIPE_SECRET_KEY (stagewise/standins.py; the launcher, socket activation and stopping
are the toolkit's). The billing function reaches it through `STRIPE_API_BASE` with the key the
declaration sets for local stages. Each instance is its own process: localstripe keeps its
objects in module globals. `charges(base_url, key)` lists the charges through the Stripe API.

`serve()` applies the patches below to localstripe 1.15.10 and serves its aiohttp
app on 127.0.0.1 only. Every patch says which Stripe behaviour it adds; all of them live here:

1. state file in our directory, written atomically (rename) once per mutating request
   (localstripe: one fixed /tmp/localstripe.pickle shared by every instance, rewritten on
   every object created);
2. Stripe's test tokens (`tok_visa`, `tok_chargeDeclined`, ...) as charge sources, and Stripe's
   `resource_missing` error on `source` for an unknown one (localstripe: only pm_/src_/card_ ids,
   anything else is a bare 400 "Bad request");
3. test cards that decline a charge with Stripe's `card_error` body: code, decline_code and
   message, e.g. "Your card was declined." (localstripe: only 4000000000000341 declines, typed
   `invalid_request_error`);
4. `Idempotency-Key` on POST: the same key and parameters replay the first response
   (`Idempotent-Replayed: true`), other parameters → 400 `idempotency_error`, a concurrent
   duplicate → 409 (localstripe: the header is ignored, every retry charges again).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import pickle
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagewise.fileio import write_atomically
from stagewise.net import loopback_listener

HOST = "127.0.0.1"
STATE_FILE = "localstripe.pickle"
IDEMPOTENCY_FILE = "idempotency.json"
IDEMPOTENCY_TTL_SECONDS = 24 * 3600  # Stripe keeps idempotency keys for 24 hours
READY_PREFIX = "stripe_local listening on "  # the launcher waits for "listening on "

# Stripe's test tokens (https://docs.stripe.com/testing) → the test card each one stands for.
TEST_TOKENS = {
    "tok_visa": "4242424242424242",
    "tok_visa_debit": "4000056655665556",
    "tok_mastercard": "5555555555554444",
    "tok_chargeDeclined": "4000000000000002",
    "tok_chargeDeclinedInsufficientFunds": "4000000000009995",
    "tok_chargeDeclinedExpiredCard": "4000000000000069",
    "tok_chargeDeclinedIncorrectCvc": "4000000000000127",
}


@dataclass(frozen=True)
class Decline:
    """How Stripe's test mode refuses a charge on one test card."""

    code: str
    decline_code: str | None
    message: str


DECLINES = {
    "4000000000000002": Decline("card_declined", "generic_decline", "Your card was declined."),
    "4000000000000341": Decline("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": Decline("expired_card", None, "Your card has expired."),
    "4000000000000127": Decline("incorrect_cvc", None, "Your card's security code is incorrect."),
}


# ---------------------------------------------------------------- patches (run in the child)


def patch_state_file(state_dir: Path) -> Path:
    """Patch 1: keep localstripe's objects in `state_dir`, written atomically per mutating request."""
    from localstripe import resources

    path = state_dir / STATE_FILE

    def try_load_from_disk(store: dict) -> None:
        if path.is_file():
            with path.open("rb") as handle:
                saved = pickle.load(handle)
            dict.clear(store)
            dict.update(store, saved)

    def dump_to_disk(store: dict) -> None:
        # Not durable (no fsync): it cost ~10-30 ms per charge here, and only a machine crash (not a
        # killed process) could lose the last writes of a local test-mode Stripe.
        write_atomically(path, pickle.dumps(dict(store), protocol=pickle.HIGHEST_PROTOCOL))

    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk
    # The server's save_store middleware dumps after every POST/PUT/DELETE, before it answers;
    # dumping again on every object created only rewrote the whole file several times per call.
    resources.Store.__setitem__ = dict.__setitem__
    resources.Store.__delitem__ = dict.__delitem__
    return path


def patch_test_tokens() -> None:
    """Patch 2: a charge's `source` may be one of Stripe's test tokens (a new card each time, as in Stripe);
    an unknown token is Stripe's 400 `resource_missing` on `source` (localstripe: a bare "Bad request")."""
    from localstripe.errors import UserError as StripeError
    from localstripe.resources import Card, Charge

    original_init = Charge.__init__

    def __init__(self: Any, *args: Any, source: Any = None, **kwargs: Any) -> None:
        if isinstance(source, str) and source in TEST_TOKENS:
            card = {"object": "card", "number": TEST_TOKENS[source], "exp_month": 12, "exp_year": 2034, "cvc": "123"}
            source = Card(source=card).id
        elif isinstance(source, str) and not source.startswith(("pm_", "src_", "card_")):
            raise StripeError(400, f"No such token: '{source}'", {"code": "resource_missing", "param": "source"})
        original_init(self, *args, source=source, **kwargs)

    Charge.__init__ = __init__


def patch_declines() -> None:
    """Patch 3: the decline test cards fail a charge with Stripe's 402 `card_error` body."""
    from localstripe.errors import UserError as StripeError
    from localstripe.resources import Charge, PaymentMethod

    original_is_declined = PaymentMethod._charging_is_declined

    def _charging_is_declined(self: Any) -> bool:
        return original_is_declined(self) or getattr(self, "_card_number", None) in DECLINES

    def _set_auth_failure(self: Any) -> None:
        decline = _decline_for(PaymentMethod._api_retrieve(self.payment_method))
        self.status = "failed"
        self.failure_code = decline.code
        self.failure_message = decline.message

    def _raise_failure(self: Any) -> None:
        decline = _decline_for(PaymentMethod._api_retrieve(self.payment_method))
        error = StripeError(402, decline.message, {"code": decline.code, "charge": self.id})
        error.body["error"]["type"] = "card_error"  # localstripe types every error invalid_request_error
        if decline.decline_code:
            error.body["error"]["decline_code"] = decline.decline_code
        raise error

    PaymentMethod._charging_is_declined = _charging_is_declined  # Card delegates to it
    Charge._set_auth_failure = _set_auth_failure
    Charge._raise_failure = _raise_failure


def _decline_for(method: Any) -> Decline:
    return DECLINES.get(getattr(method, "_card_number", ""), DECLINES["4000000000000002"])


class IdempotencyCache:
    """Patch 4 (state): first responses per (API key, Idempotency-Key), kept 24 h, saved in the state dir."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.in_flight: set[str] = set()
        self.saved: dict[str, dict[str, Any]] = {}
        if path.is_file():
            self.saved = json.loads(path.read_text())

    def get(self, key: str) -> dict[str, Any] | None:
        entry = self.saved.get(key)
        if entry and time.time() - entry["at"] > IDEMPOTENCY_TTL_SECONDS:
            del self.saved[key]
            return None
        return entry

    def put(self, key: str, entry: dict[str, Any]) -> None:
        now = time.time()
        # The stripe client sends a fresh key with every POST: drop expired entries as new ones come.
        self.saved = {k: v for k, v in self.saved.items() if now - v["at"] <= IDEMPOTENCY_TTL_SECONDS}
        self.saved[key] = {**entry, "at": now}
        write_atomically(self.path, json.dumps(self.saved).encode())


def idempotency_middleware(cache: IdempotencyCache) -> Any:
    """Patch 4: honour `Idempotency-Key` on POST the way Stripe does."""
    from aiohttp import web

    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        scoped = hashlib.sha256(f"{request.headers.get('Authorization', '')}\n{key}".encode()).hexdigest()
        fingerprint = hashlib.sha256(request.path.encode() + b"\n" + await request.read()).hexdigest()
        if scoped in cache.in_flight:
            return _stripe_error(409, "idempotency_key_in_use", f"There is currently another in-progress request using this Idempotency-Key ({key}); retry later.", "invalid_request_error")
        saved = cache.get(scoped)
        if saved is not None:
            if saved["fingerprint"] != fingerprint:
                message = f"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request."
                return _stripe_error(400, None, message, "idempotency_error")
            return web.Response(status=saved["status"], text=saved["body"], content_type="application/json", headers={"Idempotent-Replayed": "true", "Idempotency-Key": key})
        cache.in_flight.add(scoped)
        try:
            response = await handler(request)
        finally:
            cache.in_flight.discard(scoped)
        # Stripe saves a result once the endpoint ran: successes and card errors, not validation errors.
        if isinstance(response, web.Response) and (response.status < 300 or response.status == 402):
            cache.put(scoped, {"fingerprint": fingerprint, "status": response.status, "body": response.text})
        return response

    return middleware


def _stripe_error(status: int, code: str | None, message: str, kind: str) -> Any:
    from aiohttp import web

    error: dict[str, Any] = {"message": message, "type": kind}
    if code:
        error["code"] = code
    return web.json_response({"error": error}, status=status)


def build_app(state_dir: Path) -> Any:
    """localstripe's aiohttp app with every patch above applied and its saved state loaded."""
    state_dir.mkdir(parents=True, exist_ok=True)
    patch_state_file(state_dir)
    patch_test_tokens()
    patch_declines()
    from localstripe import server
    from localstripe.resources import store

    store.try_load_from_disk()
    server.app.middlewares.insert(0, idempotency_middleware(IdempotencyCache(state_dir / IDEMPOTENCY_FILE)))
    return server.app


async def _serve(state_dir: Path, port: int, stopping: asyncio.Event, fd: int | None = None) -> None:
    from aiohttp import web

    sock = socket.socket(fileno=fd) if fd is not None else loopback_listener(port)
    runner = web.AppRunner(build_app(state_dir), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    print(f"{READY_PREFIX}http://{HOST}:{sock.getsockname()[1]}", flush=True)
    try:
        await stopping.wait()
    finally:
        await runner.cleanup()


def serve(state_dir: Path, port: int = 0, fd: int | None = None) -> None:
    """Serve the patched localstripe on 127.0.0.1:`port` (or on the listening socket `fd` its parent
    handed over) until SIGTERM / SIGINT: the child's main."""
    loop = asyncio.new_event_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    try:
        loop.run_until_complete(_serve(state_dir, port, stopping, fd))
    finally:
        loop.close()


def charges(base_url: str, key: str) -> list[dict[str, Any]]:
    """Every charge the server at `base_url` holds (paid or failed), read page by page through the Stripe API."""
    import httpx  # ~70 ms: only tests and benchmarks read charges

    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 100}
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=10) as client:
        while True:
            page = client.get("/v1/charges", params=params).raise_for_status().json()
            found.extend(page["data"])
            if not page["has_more"] or not page["data"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.stripe_local", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--fd", type=int, help="serve on this inherited listening socket instead of --port")
    parser.add_argument("--state-dir", type=Path, required=True, help="where the server keeps its objects")
    args = parser.parse_args(argv)
    serve(args.state_dir, args.port, args.fd)


if __name__ == "__main__":
    main()
