"""libs.auth and libs.guards: the caller from verified claims; 401 / 413 before the resolver runs."""

from __future__ import annotations

import base64
import json

from libs.auth import caller_id, claims
from libs.guards import body_size, early_response

from .conftest import rest_event


def test_caller_id_comes_from_the_authorizer_claims():
    assert caller_id(rest_event("GET", "/x", sub="abc")) == "abc"
    assert claims(rest_event("GET", "/x", sub="abc"))["sub"] == "abc"


def test_no_claims_means_no_caller():
    # GIVEN events without an authorizer, with empty claims, or with a non-string sub THEN no caller
    no_authorizer = rest_event("GET", "/x", sub=None)
    empty = rest_event("GET", "/x")
    empty["requestContext"]["authorizer"] = {"claims": {}}
    odd = rest_event("GET", "/x")
    odd["requestContext"]["authorizer"] = {"claims": {"sub": 5}}
    assert [caller_id(event) for event in (no_authorizer, empty, odd, {})] == [None, None, None, None]


def test_early_response_401_without_caller():
    reply = early_response(rest_event("POST", "/x", body="{}", sub=None))
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


def test_early_responses_are_readable_cross_origin_when_asked():
    event = rest_event("GET", "/x", sub=None)
    event["headers"]["Origin"] = "http://localhost:5173"
    assert early_response(event)["headers"]["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Origin" not in early_response(rest_event("GET", "/x", sub=None))["headers"]
