"""Fixtures for the billing-api handler tests: moto in-process, a real local Stripe, REST v1 events.

Data flow: `stripe_server` runs the app's local Stripe (tools/stripe_local.py, as stagewise.toml
declares it) once per test session on a free loopback port; `world` sets the function's environment, starts moto with what the stack
deploys (the SecureString key, the topic, the idempotency table, the outbox queue) plus an SQS
queue subscribed to the topic so a test can read what was published, and resets every
per-container cache. `world.call(body, headers=...)` runs `billing_api.api.handler` on a real
API Gateway REST proxy event of an AWS_IAM method, signed by a Cognito identity.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stagewise.config import load_project
from stagewise.standins import LocalStandin
from stagewise.testing import add_import_paths, api_event, create_table, lambda_context, mocked_aws
from tools.stripe_local import charges

ROOT = Path(__file__).resolve().parents[3]
DECLARED = load_project(ROOT / "stagewise.toml").standins["stripe"]
LOCAL_SECRET_KEY = DECLARED.secret_value or ""
add_import_paths(ROOT / "services" / "billing-api", ROOT)

FUNCTION = "test-notes-billing-api-Billing"
ALICE = "us-east-1:11111111-aaaa-4aaa-8aaa-111111111111"  # Cognito identity ids
BOB = "us-east-1:22222222-bbbb-4bbb-8bbb-222222222222"
PARAMETER = "/notes/test/STRIPE_SECRET_KEY"
SECRET = LOCAL_SECRET_KEY + "_billing_tests_7f3a"  # a distinctive value to hunt for in logs
ENV = {
    "STAGE": "test",
    "LOG_LEVEL": "DEBUG",
    "POWERTOOLS_SERVICE_NAME": "billing-api",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "STRIPE_SECRET_PARAMETER": PARAMETER,
    "IDEMPOTENCY_TABLE": "test-notes-billing-idempotency",
    "CORS_ORIGIN": "http://localhost:5173",
}


def context() -> Any:
    """A fresh invocation of the billing function."""
    return lambda_context(FUNCTION)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str]
    raw: dict[str, Any]


def rest_event(body: Any, *, headers: dict[str, str] | None = None, user: str | None = ALICE, raw_body: str | bytes | None = None) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event for POST /billing as the AWS_IAM method sends it for
    Cognito identity `user` (None: a request without an identity)."""
    return api_event(
        "POST",
        "/billing",
        body=raw_body if raw_body is not None else body,
        identity=user,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass
class World:
    """moto's resources for one test plus the local Stripe, and helpers to drive the handler."""

    stripe: LocalStandin
    topic_arn: str
    outbox_url: str
    tap_url: str  # an SQS queue subscribed to the topic: what subscribers would receive
    sqs: Any

    def call(self, body: Any, **kwargs: Any) -> Reply:
        from billing_api import api

        raw = api.handler(rest_event(body, **kwargs), context())
        parsed = json.loads(raw["body"]) if raw.get("body") else None
        headers = {name: values[-1] for name, values in (raw.get("multiValueHeaders") or {}).items()}
        return Reply(raw["statusCode"], parsed, {**headers, **(raw.get("headers") or {})}, raw)

    def published(self) -> list[dict[str, Any]]:
        """Every message the topic delivered so far (drains the tap queue)."""
        return [json.loads(json.loads(item["Body"])["Message"]) for item in self._drain(self.tap_url)]

    def outbox(self) -> list[dict[str, Any]]:
        """Every message waiting in the outbox (left in place)."""
        reply = self.sqs.receive_message(QueueUrl=self.outbox_url, MaxNumberOfMessages=10, VisibilityTimeout=0)
        return [json.loads(item["Body"]) for item in reply.get("Messages", [])]

    def charges(self) -> list[dict[str, Any]]:
        """Every charge the local Stripe holds (paid or failed)."""
        return charges(self.stripe.base_url or "", LOCAL_SECRET_KEY)

    def paid_charges(self) -> list[dict[str, Any]]:
        return [charge for charge in self.charges() if charge["paid"]]

    def _drain(self, url: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            reply = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            items = reply.get("Messages", [])
            if not items:
                return found
            for item in items:
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=item["ReceiptHandle"])
            found += items


@pytest.fixture(scope="session")
def stripe_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStandin]:
    server = LocalStandin("stripe", DECLARED, state_dir=tmp_path_factory.mktemp("stripe"), root=ROOT)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def reset_containers() -> None:
    """What a fresh Lambda container starts with: no cached settings, clients, key or drain clock."""
    from billing_api import api, payments, purchases

    from libs import aws, settings

    aws.reset()
    settings.load.cache_clear()
    payments.reset()
    purchases.reset()
    api.idempotent_purchase.cache_clear()


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, stripe_server: LocalStandin) -> Iterator[World]:
    import boto3

    with mocked_aws({**ENV, DECLARED.url_variable: stripe_server.base_url or ""}):
        boto3.client("ssm").put_parameter(Name=PARAMETER, Value=SECRET, Type="SecureString")
        create_table(boto3.client("dynamodb"), ENV["IDEMPOTENCY_TABLE"], hash_key="id")
        topic_arn = boto3.client("sns").create_topic(Name="test-note-purchased")["TopicArn"]
        sqs = boto3.client("sqs")
        outbox_url = sqs.create_queue(QueueName="test-notes-billing-outbox")["QueueUrl"]
        tap_url = sqs.create_queue(QueueName="tap")["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        boto3.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=tap_arn)
        monkeypatch.setenv("TOPIC_ARN", topic_arn)
        monkeypatch.setenv("OUTBOX_QUEUE_URL", outbox_url)
        reset_containers()
        try:
            yield World(stripe_server, topic_arn, outbox_url, tap_url, sqs)
        finally:
            reset_containers()
