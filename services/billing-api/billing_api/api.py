"""`POST /billing`: charge a storage plan with Stripe, then announce the purchase on SNS.

Data flow: API Gateway (AWS_IAM: a REST proxy event signed by a Cognito identity) → `handler`
refuses an event without an authenticated identity (401), an oversize body (413), a Content-Type other
than JSON (415) or a body that is not a bounded UTF-8 JSON object (400; `libs.guards.screen_request`,
shared with notes-api) → the Powertools resolver validates the body against
`BillingRequest` (400 naming the field) → `create_purchase` prices it (`cost`), and runs
`purchase()` — through Powertools Idempotency when the request has an `Idempotency-Key` header:

    purchase: Stripe charge ─ declined ─────────────► 402 {"message": <Stripe's message>}
                    │ unknown source ───────────────► 400 {"message": "source: <Stripe's message>"}
                    │ unreachable ──────────────────► 502 (record dropped: a retry charges)
                    ▼ charged
              SNS publish (retries, else outbox) ───► 200 {"status": true, "amount": <cents>}

With a key, the first outcome (200 or 402) is stored in the idempotency table and replayed for
the same caller and key (header `Idempotent-Replayed: true`); a duplicate arriving while the
first still runs gets 409; the same key with another body gets 422. The key given to Stripe is
derived from the caller and the key, so even a retry that slips past the table charges once.
"""

from __future__ import annotations

import functools
import hashlib
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from billing_api import payments, purchases
from billing_api.cost import MAX_STORAGE, MIN_STORAGE, cost_in_cents
from billing_api.settings import BillingSettings
from libs import aws
from libs import settings as env
from libs.auth import caller_id
from libs.errors import json_error
from libs.guards import screen_request
from libs.observability import annotate_caller, logger, tracer
from libs.resolver import COMMON_ERRORS, SIGV4_SCHEME, ApiError, api_resolver, error_responses

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY = 255  # Stripe's limit for the key we pass on
IDEMPOTENCY_CONFIG = IdempotencyConfig(
    event_key_jmespath='headers."Idempotency-Key"',
    payload_validation_jmespath="body",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 3600,  # as long as Stripe keeps its own keys
    response_hook=lambda response, record: {**response, "replayed": True},
)

app = api_resolver(
    title="billing-api",
    version="1.0.0",
    description=(
        "Buy note storage: charges the caller's card with Stripe. Needs a request signed (SigV4, "
        "execute-api) with a Cognito identity's credentials."
    ),
    logger=logger(),
)


class BillingRequest(BaseModel):
    """The body of `POST /billing` (unknown fields refused, as on every route)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"storage": 10, "source": "tok_visa"}]})

    storage: Annotated[StrictInt, Field(ge=MIN_STORAGE, le=MAX_STORAGE, description="storage units to buy")]
    source: Annotated[str, Field(min_length=1, max_length=255, description="Stripe card source, e.g. tok_visa")]


class BillingResponse(BaseModel):
    status: bool
    amount: int


def _documented(status: int, model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"model": model}}}


# Every status the route can answer: the common ones (`libs.resolver`) and billing's own.
_RESPONSES = {
    200: _documented(200, BillingResponse, "Charged: the amount in cents"),
    **error_responses(*COMMON_ERRORS, 409),
    402: _documented(402, ApiError, "The card was declined: Stripe's message"),
    422: _documented(422, ApiError, "The Idempotency-Key was already used with another body"),
    502: _documented(502, ApiError, "Stripe could not be reached; nothing was charged"),
}


# Per route, not only globally: the local runtime merges the documents of several functions into one.
@app.post("/billing", responses=_RESPONSES, security=[{SIGV4_SCHEME: []}])
def create_purchase(request: BillingRequest) -> Response[BillingResponse | ApiError]:
    key = app.current_event.get_header_value(IDEMPOTENCY_HEADER)
    body = {"storage": request.storage, "source": request.source}
    if key is None:
        outcome = purchase(request={"body": body, "stripeKey": None})
    elif not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        return json_error(HTTPStatus.BAD_REQUEST, f"{IDEMPOTENCY_HEADER}: 1 to {MAX_IDEMPOTENCY_KEY} characters")
    else:
        scoped = _scoped_key(caller_id(app.current_event.raw_event) or "", key)
        outcome = idempotent_purchase()(request={"headers": {IDEMPOTENCY_HEADER: scoped}, "body": body, "stripeKey": scoped})
    headers = {"Idempotent-Replayed": "true"} if outcome.get("replayed") else None
    return Response(
        status_code=outcome["statusCode"],
        content_type=content_types.APPLICATION_JSON,
        body=outcome["body"],
        headers=headers,
    )


def purchase(request: dict[str, Any]) -> dict[str, Any]:
    """Charge, then announce; returns `{"statusCode", "body"}` (stored and replayed for a key)."""
    settings = env.load(BillingSettings)
    amount = cost_in_cents(request["body"]["storage"])
    try:
        charge_id = payments.charge(
            settings, amount_cents=amount, source=request["body"]["source"], idempotency_key=request["stripeKey"]
        )
    except payments.CardDeclined as exc:
        logger().info("card declined", extra={"amount": amount})
        return {"statusCode": int(HTTPStatus.PAYMENT_REQUIRED), "body": {"message": exc.message}}
    delivery = purchases.announce(settings, message=purchases.purchase_message(amount), charge_id=charge_id)
    logger().info("charged", extra={"amount": amount, "chargeId": charge_id, "delivery": delivery.value})
    return {"statusCode": int(HTTPStatus.OK), "body": {"status": True, "amount": amount}}


@functools.cache
def idempotent_purchase() -> Any:
    """`purchase` guarded by Powertools Idempotency on this container's table (built on first use)."""
    persistence = DynamoDBPersistenceLayer(
        table_name=env.load(BillingSettings).idempotency_table, boto3_client=aws.client("dynamodb")
    )
    return idempotent_function(
        purchase,
        data_keyword_argument="request",
        persistence_store=persistence,
        config=IDEMPOTENCY_CONFIG,
        key_prefix="billing-api.purchase",  # stable whatever module name the handler is imported under
    )


def _scoped_key(caller: str, key: str) -> str:
    """One caller's key never meets another's: the stored key is a hash of both."""
    return hashlib.sha256(f"{caller}\n{key}".encode()).hexdigest()


@app.exception_handler(payments.PaymentUnavailable)
def _payment_unavailable(exc: payments.PaymentUnavailable) -> Response:
    logger().warning("payment provider unavailable", extra={"cause": type(exc.__cause__).__name__})
    return json_error(HTTPStatus.BAD_GATEWAY, str(exc))


@app.exception_handler(payments.InvalidSource)
def _invalid_source(exc: payments.InvalidSource) -> Response:
    return json_error(HTTPStatus.BAD_REQUEST, f"source: {exc.message}")


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _in_progress(exc: IdempotencyAlreadyInProgressError) -> Response:
    return json_error(HTTPStatus.CONFLICT, f"a request with this {IDEMPOTENCY_HEADER} is still in progress; retry shortly")


@app.exception_handler(IdempotencyValidationError)
def _reused_key(exc: IdempotencyValidationError) -> Response:
    message = f"{IDEMPOTENCY_HEADER} was already used with a different body; use a new key for a new purchase"
    return json_error(HTTPStatus.UNPROCESSABLE_ENTITY, message)


@logger().inject_lambda_context
@tracer().capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    annotate_caller(event)
    refused, screened = screen_request(event)
    if refused is not None:
        return refused
    IDEMPOTENCY_CONFIG.register_lambda_context(context)
    return app.resolve(screened, context)
