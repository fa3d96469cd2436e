"""libs.bodies: the one screening of request bodies both API services use (via libs.guards.screen_request)."""

from __future__ import annotations

import json
import time

import pytest

from libs.bodies import (
    MAX_DEPTH,
    BodyError,
    BodyRefusal,
    check_content_type,
    media_type,
    nesting_depth,
    parse_object,
    screen_body,
)
from libs.guards import screen_request

from .conftest import rest_event


def _problem(data: bytes) -> str:
    with pytest.raises(BodyError) as caught:
        parse_object(data)
    return caught.value.refusal.message


def test_media_type_is_case_insensitive_and_reads_parameters():
    assert media_type('Application/JSON ; Charset="UTF-8"; boundary=x') == (
        "application/json", {"charset": "utf-8", "boundary": "x"})
    assert media_type("application/json") == ("application/json", {})


@pytest.mark.parametrize("value", [None, "", "application/json", "APPLICATION/JSON", "application/json; charset=utf8",
                                   "application/json; foo=bar"])
def test_json_in_utf8_passes(value):
    check_content_type(value)


@pytest.mark.parametrize("value", ["text/plain", "application/json-patch+json", "application/json; charset=latin-1"])
def test_anything_else_is_415(value):
    with pytest.raises(BodyError) as caught:
        check_content_type(value)
    assert caught.value.refusal.status == 415


def test_nesting_is_counted_outside_strings_only():
    assert nesting_depth('{"a": "[[[[{{{{", "b": [[1]]}') == 3
    assert nesting_depth('{"a": "\\"[[["}') == 1


def test_the_depth_bound_is_inclusive():
    assert parse_object(b'{"a": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}")
    assert _problem(b'{"a": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}") == "body: JSON nested deeper than 32 levels"


def test_a_hostile_body_costs_one_linear_pass():
    began = time.perf_counter()
    assert _problem(b"[" * 120_000) == "body: JSON nested deeper than 32 levels"
    assert _problem(b'{"a": ' + b"1" * 120_000 + b"}") == "a: number out of range (finite, at most 64 characters)"
    assert time.perf_counter() - began < 1


def test_problems_are_named_by_their_path():
    assert _problem(b'{"a": {"b": [0, 1e999]}}') == "a.b.1: number out of range (finite, at most 64 characters)"
    assert _problem(b'{"a": {"b": 1, "b": 2}}') == "a.b: duplicate key"


def test_numbers_within_the_bound_stay_exact():
    big = 10**60
    assert parse_object(json.dumps({"n": big, "f": 0.5, "neg": -3}).encode()) == {"n": big, "f": 0.5, "neg": -3}


def test_screen_body_rewrites_the_event_the_resolver_gets():
    event = rest_event("POST", "/x", body='{"a": "é" , "b": [1]}')
    event["headers"]["Content-Type"] = event["multiValueHeaders"]["Content-Type"][0] = "APPLICATION/JSON"
    screened = screen_body(event)
    assert isinstance(screened, dict)
    assert json.loads(screened["body"]) == {"a": "é", "b": [1]}
    assert screened["headers"]["Content-Type"] == "application/json"
    assert screened["multiValueHeaders"]["Content-Type"] == ["application/json"]
    assert event["headers"]["Content-Type"] == "APPLICATION/JSON"  # the caller's event is not changed


def test_screen_body_refuses_with_the_field_named():
    refusal = screen_body(rest_event("POST", "/x", body='{"a": 1, "a": 2}'))
    assert isinstance(refusal, BodyRefusal)
    assert refusal.body() == {"message": "a: duplicate key", "errors": [{"field": "a", "message": "duplicate key"}]}


def test_screen_request_answers_400_as_a_proxy_response():
    refused, _ = screen_request(rest_event("POST", "/x", body="[]"))
    assert refused["statusCode"] == 400
    assert json.loads(refused["body"])["message"] == "body: must be a JSON object"
    refused, event = screen_request(rest_event("POST", "/x", body="{}"))
    assert refused is None and event["body"] == "{}"
