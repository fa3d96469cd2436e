"""Request bodies through the notes-api handler: only bounded UTF-8 JSON objects get to a route.

Every bad body is a 400 `{"message": "<field or body>: <problem>", "errors": [...]}` (never a 500,
never a note), and media types are compared case-insensitively with their parameters.
"""

from __future__ import annotations

import base64
import json

import pytest
from notes_api_fixtures import TABLE, rest_event

NOTE = json.dumps({"content": "buy milk"}).encode()
DEEP = b"[" * 10_000 + b"]" * 10_000


def _assert_400(reply, message: str) -> None:
    assert reply.status == 400, reply.body
    assert reply.body["message"] == message, reply.body
    field, _, problem = message.partition(": ")
    assert reply.body["errors"] == [{"field": field, "message": problem}]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (json.dumps([{"content": "x"}]).encode(), "body: must be a JSON object"),
        (b'"buy milk"', "body: must be a JSON object"),
        (b"42", "body: must be a JSON object"),
        (b"null", "body: must be a JSON object"),
        (b'{"content": "caf\xe9"}', "body: not valid UTF-8"),
        (b'{"content": "\xed\xa0\x80"}', "body: not valid UTF-8"),  # an encoded surrogate
        (NOTE.decode().encode("utf-16"), "body: must be UTF-8 JSON (UTF-16 and UTF-32 are not accepted)"),
        (NOTE.decode().encode("utf-16-le"), "body: must be UTF-8 JSON (UTF-16 and UTF-32 are not accepted)"),
        (NOTE.decode().encode("utf-32"), "body: must be UTF-8 JSON (UTF-16 and UTF-32 are not accepted)"),
        (b"\xef\xbb\xbf" + NOTE, "body: must be UTF-8 JSON without a byte order mark"),
        (DEEP, "body: JSON nested deeper than 32 levels"),
        (b'{"content": ' + DEEP + b"}", "body: JSON nested deeper than 32 levels"),
        (b'{"content": "a", "content": "b"}', "content: duplicate key"),
        (b'{"content": NaN}', "body: malformed JSON"),
        (b'{"content": "\\ud800"}', "content: invalid Unicode (a lone surrogate escape)"),
    ],
    ids=[
        "array", "string", "number", "null", "latin-1", "utf8-surrogate", "utf-16", "utf-16-le", "utf-32",
        "utf-8-bom", "array-10000-deep", "value-10000-deep", "duplicate-key", "nan", "escaped-surrogate",
    ],
)
def test_a_body_that_is_not_a_bounded_utf8_json_object_is_400(call, aws, raw, message):
    # GIVEN such a body WHEN creating a note THEN 400 naming the problem, and nothing is stored
    _assert_400(call("POST", "/notes", raw_body=raw), message)
    assert aws.scan(TableName=TABLE)["Count"] == 0


def test_an_integer_of_5000_digits_is_400_naming_the_field_not_500(call, aws):
    # GIVEN a number past Python's 4,300-digit int() limit WHEN creating THEN 400 naming its field
    raw = b'{"content": "x", "attachment": ' + b"9" * 5000 + b"}"
    _assert_400(call("POST", "/notes", raw_body=raw), "attachment: number out of range (finite, at most 64 characters)")
    assert aws.scan(TableName=TABLE)["Count"] == 0


def test_a_float_that_overflows_is_400(call):
    _assert_400(call("POST", "/notes", raw_body=b'{"content": 1e999}'),
                "content: number out of range (finite, at most 64 characters)")


def test_nesting_up_to_the_bound_reaches_the_schema(call):
    # GIVEN 32 levels (the object itself is the first) WHEN creating THEN the model answers: a string is wanted
    raw = b'{"content": ' + b"[" * 31 + b"]" * 31 + b"}"
    reply = call("POST", "/notes", raw_body=raw)
    assert reply.status == 400
    assert reply.body["message"] == "content: Input should be a valid string"


def test_put_screens_its_body_like_post(call):
    created = call("POST", "/notes", body={"content": "a"}).body
    reply = call("PUT", f"/notes/{created['noteId']}", raw_body=b'[{"content": "b"}]')
    _assert_400(reply, "body: must be a JSON object")
    assert call("GET", f"/notes/{created['noteId']}").body["content"] == "a"


def test_attachments_screens_its_body_too(call):
    _assert_400(call("POST", "/attachments", raw_body=b'{"filename": "a", "filename": "b"}'), "filename: duplicate key")


def test_a_base64_body_is_decoded_then_screened(call):
    # GIVEN API Gateway passed the body base64-encoded (binary media types) WHEN it is a valid note THEN 201
    event = rest_event("POST", "/notes", raw_body=NOTE)
    event["body"], event["isBase64Encoded"] = base64.b64encode(NOTE).decode(), True
    reply = call(event=event)
    assert reply.status == 201
    assert reply.body["content"] == "buy milk"


@pytest.mark.parametrize(
    "content_type",
    ["APPLICATION/JSON", "Application/Json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
     'application/json; charset="utf-8"', "application/json; charset=UTF8", " application/json "],
)
def test_json_media_types_are_case_insensitive_with_parameters(call, content_type):
    reply = call("POST", "/notes", raw_body=NOTE, headers={"Content-Type": content_type})
    assert reply.status == 201, reply.body
    assert reply.body["content"] == "buy milk"


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("application/json; charset=iso-8859-1", "body: send application/json with charset=utf-8 (the only charset accepted)"),
        ("application/json; charset=utf-16", "body: send application/json with charset=utf-8 (the only charset accepted)"),
        ("application/x-www-form-urlencoded", "body: send application/json"),
        ("text/json", "body: send application/json"),
        ("application/jsonp", "body: send application/json"),
    ],
)
def test_other_media_types_and_charsets_are_415(call, aws, content_type, message):
    reply = call("POST", "/notes", raw_body=NOTE, headers={"Content-Type": content_type})
    assert (reply.status, reply.body) == (415, {"message": message})
    assert aws.scan(TableName=TABLE)["Count"] == 0


def test_a_get_without_a_body_is_not_screened(call):
    # GIVEN a GET that sends a Content-Type but no body THEN the content type is not held against it
    assert call("GET", "/notes", headers={"Content-Type": "text/plain"}).status == 200


def test_the_401_comes_before_the_body_is_looked_at(call):
    # GIVEN no caller and a bad body THEN 401: an unauthenticated caller learns nothing of the body rules
    assert call("POST", "/notes", user=None, raw_body=b"\xff").status == 401
