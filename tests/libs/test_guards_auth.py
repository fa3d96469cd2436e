"""libs.auth and libs.guards: the caller from the verified identity; 401 / 413 before the resolver runs."""

from __future__ import annotations

import base64
import json

from libs.auth import caller_id, identity
from libs.guards import body_size, early_response
from stagewise.testing import api_event

from .conftest import rest_event

ABC = "us-east-1:0f1e2d3c-aaaa-4bbb-8ccc-000000000abc"


def test_caller_id_is_the_cognito_identity_id():
    event = rest_event("GET", "/x", identity=ABC)
    assert caller_id(event) == ABC
    assert identity(event)["cognitoIdentityPoolId"].startswith("us-east-1:")


def test_no_authenticated_identity_means_no_caller():
    # GIVEN an unsigned event, an identity without an id, a non-string id, an unauthenticated
    # identity, an account's own keys (no Cognito identity) and no request context THEN no caller
    unsigned = rest_event("GET", "/x", identity=None)
    empty = rest_event("GET", "/x")
    empty["requestContext"]["identity"]["cognitoIdentityId"] = ""
    odd = rest_event("GET", "/x")
    odd["requestContext"]["identity"]["cognitoIdentityId"] = 5
    guest = rest_event("GET", "/x")
    guest["requestContext"]["identity"]["cognitoAuthenticationType"] = "unauthenticated"
    account = api_event("GET", "/x", identity={"accountId": "111111111111", "caller": "111111111111",
                                               "userArn": "arn:aws:iam::111111111111:root"})
    events = (unsigned, empty, odd, guest, account, {}, {"requestContext": None})
    assert [caller_id(event) for event in events] == [None] * len(events)


def test_user_pool_claims_are_not_a_caller():
    # GIVEN a Cognito user pool token's claims (the old authorization) THEN they identify nobody
    assert caller_id(api_event("GET", "/x", claims={"sub": "user-1"})) is None


def test_early_response_401_without_caller():
    reply = early_response(rest_event("POST", "/x", body="{}", identity=None))
    assert reply["statusCode"] == 401
    assert json.loads(reply["body"]) == {"message": "unauthorized"}


def test_early_response_413_over_the_limit_and_none_within():
    # GIVEN bodies just within and just over the limit (bytes, not characters)
    within = rest_event("POST", "/x", body="é" * 50)  # 100 bytes
    over = rest_event("POST", "/x", body="é" * 51)
    # THEN only the larger is refused, with 413 naming the body
    assert early_response(within, max_body_bytes=100) is None
    reply = early_response(over, max_body_bytes=100)
    assert reply["statusCode"] == 413
    assert json.loads(reply["body"])["message"].startswith("body: ")


def test_base64_body_is_measured_decoded():
    event = rest_event("POST", "/x", body=base64.b64encode(b"x" * 300).decode())
    event["isBase64Encoded"] = True
    assert body_size(event) == 300


def test_early_responses_are_readable_by_the_configured_origin_only(monkeypatch):
    event = rest_event("GET", "/x", identity=None)
    event["headers"]["Origin"] = "http://localhost:5173"
    monkeypatch.setenv("CORS_ORIGIN", "http://localhost:5173")
    assert early_response(event)["headers"]["Access-Control-Allow-Origin"] == "http://localhost:5173"
    monkeypatch.delenv("CORS_ORIGIN")  # no origin configured: no page may read it (never `*`)
    assert early_response(event)["headers"]["Access-Control-Allow-Origin"] == "https://localhost.invalid"
    assert "Access-Control-Allow-Origin" not in early_response(rest_event("GET", "/x", identity=None))["headers"]
