"""CUSTOM (Lambda TOKEN / REQUEST) authorizers and unsupported authorization types, over HTTP
through the real gateway and real authorizer workers (tests/runtime/authz_stacks.py).

Every authorizer call appends its event to `services/lambda_auth/calls.log` of the app copy, so
the tests count calls and read the events the gateway sent."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stagewise.runtime import Runtime, RuntimeModel
from tests.runtime.authz_stacks import API_ID, authz_stack
from tests.runtime.conftest import BASE_ENV, Logs
from tests.runtime.stacks import ACCOUNT, REGION

pytestmark = pytest.mark.e2e

ARN = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/dev"
UNAUTHORIZED = {"message": "Unauthorized"}
NOT_AUTHORIZED = {"Message": "User is not authorized to access this resource"}
EXPLICIT_DENY = {"Message": "User is not authorized to access this resource with an explicit deny"}
CONFIG_ERROR = {"message": None}


@pytest.fixture
def served(app_copy: Path, logs: Logs) -> Iterator[tuple[Runtime, httpx.Client]]:
    model = RuntimeModel.from_stacks([authz_stack()], repo_root=app_copy)
    runtime = Runtime(model, repo_root=app_copy, worker_env=BASE_ENV, region=REGION, log=logs, hot_reload=False)
    runtime.start(port=0)
    try:
        with httpx.Client(base_url=runtime.url, timeout=30) as client:
            yield runtime, client
    finally:
        runtime.stop()


@pytest.fixture
def client(served) -> httpx.Client:
    return served[1]


@pytest.fixture
def calls(app_copy: Path):
    log = app_copy / "services/lambda_auth/calls.log"

    def read() -> list[dict]:
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    return read


def answer(response: httpx.Response) -> tuple[int, object]:
    return response.status_code, response.json()


def authorizer_of(response: httpx.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()["event"]["requestContext"]["authorizer"]


# --- TOKEN ---------------------------------------------------------------------------------------

def test_token_allow_reaches_the_function_with_principal_and_context(client, calls):
    response = client.get("/pets/1", headers={"Authorization": "allow"})
    authorizer = authorizer_of(response)
    assert authorizer["principalId"] == "user-1"
    assert {k: authorizer[k] for k in ("user", "n", "ok", "ratio")} == {"user": "u1", "n": "3", "ok": "true",
                                                                       "ratio": "0.5"}
    assert isinstance(authorizer["integrationLatency"], int)
    assert "claims" not in authorizer
    assert calls() == [{"type": "TOKEN", "authorizationToken": "allow", "methodArn": f"{ARN}/GET/pets/1"}]


def test_token_explicit_deny_is_403(client):
    assert answer(client.get("/pets/1", headers={"Authorization": "deny"})) == (403, EXPLICIT_DENY)


def test_token_policy_without_a_matching_allow_is_403(client):
    assert answer(client.get("/pets/1", headers={"Authorization": "other-api"})) == (403, NOT_AUTHORIZED)


def test_explicit_deny_wins_over_an_allow(client):
    assert client.get("/pets/1", headers={"Authorization": "deny-secret"}).status_code == 200
    assert answer(client.get("/secret", headers={"Authorization": "deny-secret"})) == (403, EXPLICIT_DENY)


def test_question_mark_matches_one_character(client):
    assert client.get("/pets/1", headers={"Authorization": "one-char"}).status_code == 200
    assert answer(client.get("/pets/12", headers={"Authorization": "one-char"})) == (403, NOT_AUTHORIZED)


def test_an_any_route_is_authorized_for_the_actual_verb(client, calls):
    assert client.get("/things", headers={"Authorization": "get-only"}).status_code == 200
    assert answer(client.post("/things", headers={"Authorization": "get-only"})) == (403, NOT_AUTHORIZED)
    assert [c["methodArn"] for c in calls()] == [f"{ARN}/GET/things"]  # the POST was decided from the cache


def test_unauthorized_exception_is_401(client):
    response = client.get("/pets/1", headers={"Authorization": "unauthorized"})
    assert answer(response) == (401, UNAUTHORIZED)
    assert response.headers["x-amzn-ErrorType"] == "UnauthorizedException"


@pytest.mark.parametrize("token", ["boom", "malformed", "no-principal", "nested"])
def test_an_error_or_a_malformed_answer_is_500_never_allowed(client, logs, token):
    response = client.get("/pets/1", headers={"Authorization": token})
    assert answer(response) == (500, CONFIG_ERROR)
    assert response.headers["x-amzn-ErrorType"] == "AuthorizerConfigurationException"
    assert any("GET /pets/1: 500" in line for line in logs), logs.text()


def test_an_authorizer_timeout_is_500(client, logs):
    started = time.monotonic()
    assert answer(client.get("/pets/1", headers={"Authorization": "slow"})) == (500, CONFIG_ERROR)
    assert time.monotonic() - started < 4  # killed at the function's 1 s Timeout
    assert any("timed out" in line for line in logs), logs.text()
    assert client.get("/pets/1", headers={"Authorization": "allow"}).status_code == 200  # a fresh worker


def test_missing_token_is_401_without_calling_the_function(client, calls):
    assert answer(client.get("/pets/1")) == (401, UNAUTHORIZED)
    assert answer(client.get("/pets/1", headers={"Authorization": ""})) == (401, UNAUTHORIZED)
    assert calls() == []


def test_identity_validation_expression_mismatch_is_401_without_calling(client, calls):
    assert answer(client.get("/nocache", headers={"X-Token": "Allow!"})) == (401, UNAUTHORIZED)
    assert calls() == []
    assert client.get("/nocache", headers={"X-Token": "allow"}).status_code == 200
    assert len(calls()) == 1


# --- cache ---------------------------------------------------------------------------------------

def test_a_result_is_cached_for_its_ttl_and_reevaluated_for_each_method_arn(client, calls):
    headers = {"Authorization": "pets-only"}
    assert client.get("/pets/1", headers=headers).status_code == 200
    assert client.get("/pets/2", headers=headers).status_code == 200
    assert answer(client.get("/secret", headers=headers)) == (403, NOT_AUTHORIZED)  # cached policy, other ARN
    assert len(calls()) == 1  # one call for three requests
    cached = authorizer_of(client.get("/pets/3", headers=headers))
    assert cached["integrationLatency"] == 0
    assert client.get("/pets/1", headers={"Authorization": "allow-again"}).status_code == 200
    assert len(calls()) == 2  # another token is another cache entry


def test_ttl_zero_calls_the_authorizer_every_time(client, calls):
    for _ in range(3):
        assert client.get("/nocache", headers={"X-Token": "allow"}).status_code == 200
    assert len(calls()) == 3


def test_an_expired_entry_calls_the_authorizer_again(served, calls):
    runtime, client = served
    assert client.get("/pets/1", headers={"Authorization": "allow"}).status_code == 200
    plugin = runtime.gateway.authorizers.plugin("CUSTOM")
    for entry in plugin._cache.values():  # age the entry past its TTL
        entry.expires = time.monotonic() - 1
    assert client.get("/pets/1", headers={"Authorization": "allow"}).status_code == 200
    assert len(calls()) == 2 and plugin.calls == 2


def test_errors_are_not_cached(client, calls):
    for _ in range(2):
        assert client.get("/pets/1", headers={"Authorization": "unauthorized"}).status_code == 401
    assert len(calls()) == 2


# --- REQUEST -------------------------------------------------------------------------------------

def test_request_authorizer_gets_the_request_and_its_context_reaches_the_function(client, calls):
    response = client.get("/req/7?q=abc", headers={"X-Key": "good"})
    authorizer = authorizer_of(response)
    assert authorizer == {
        "principalId": "request-user", "type": "REQUEST", "methodArn": f"{ARN}/GET/req/7", "path": "/req/7",
        "resource": "/req/{id}", "q": "abc", "id": "7", "stage": "dev", "stageVariable": "1",
        "integrationLatency": authorizer["integrationLatency"],
    }
    (event,) = calls()
    assert {"headers", "multiValueHeaders", "queryStringParameters", "multiValueQueryStringParameters",
            "pathParameters", "stageVariables", "requestContext", "httpMethod"} <= set(event)
    assert "body" not in event
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"


@pytest.mark.parametrize(("query", "headers"), [("", {"X-Key": "good"}), ("?q=abc", {}), ("?q=", {"X-Key": "good"})])
def test_request_with_a_missing_identity_source_is_401_without_calling(client, calls, query, headers):
    assert answer(client.get(f"/req/7{query}", headers=headers)) == (401, UNAUTHORIZED)
    assert calls() == []


def test_request_deny_is_403(client):
    assert answer(client.get("/req/7?q=abc", headers={"X-Key": "bad"})) == (403, EXPLICIT_DENY)


# --- what is not emulated is refused -------------------------------------------------------------

def test_an_unsigned_request_to_an_aws_iam_route_is_403_missing_authentication_token(client):
    """AWS_IAM has its plug-in (authorizers/iam.py; signed calls are tested in tests/e2e/test_authorization.py)."""
    response = client.get("/iam")
    assert (response.status_code, response.json()) == (403, {"message": "Missing Authentication Token"})


def test_an_unknown_authorization_type_is_refused(client, logs):
    assert answer(client.get("/weird")) == (500, CONFIG_ERROR)
    assert any("GET /weird: 500" in line and "SOMETHING_ELSE" in line for line in logs), logs.text()


def test_a_custom_method_whose_authorizer_is_missing_is_refused(client, logs):
    assert answer(client.get("/dangling", headers={"Authorization": "allow"})) == (500, CONFIG_ERROR)
    assert answer(client.get("/lost", headers={"Authorization": "allow"})) == (500, CONFIG_ERROR)
    assert any("GET /lost: 500" in line and "names no deployed function" in line for line in logs), logs.text()
