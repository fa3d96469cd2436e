"""Request validation of notes-api: every bad request is a 400 (413 for size) whose message names the field."""

from __future__ import annotations

import pytest
from notes_api.api import MAX_BODY_BYTES
from notes_api_fixtures import TABLE, rest_event


def _assert_400_naming(reply, field: str) -> None:
    assert reply.status == 400, reply.body
    assert reply.body["message"].startswith(f"{field}: "), reply.body
    assert field in [error["field"] for error in reply.body["errors"]]


def test_malformed_json_is_400(call, aws):
    # GIVEN a body that is not JSON WHEN creating a note
    reply = call("POST", "/notes", raw_body='{"content": "x",')
    # THEN 400 "body: malformed JSON" and nothing is stored
    assert reply.status == 400
    assert reply.body["message"] == "body: malformed JSON"
    assert aws.scan(TableName=TABLE)["Count"] == 0


def test_missing_content_is_400(call):
    # GIVEN an object without content WHEN creating THEN 400 naming content
    _assert_400_naming(call("POST", "/notes", body={}), "content")


def test_empty_content_is_400(call):
    reply = call("POST", "/notes", body={"content": ""})
    _assert_400_naming(reply, "content")
    assert reply.body["message"] == "content: String should have at least 1 character"


def test_over_long_content_is_400_with_the_limit_in_the_message(call):
    # GIVEN 10,001 characters WHEN creating THEN 400 with pydantic's message about the limit
    reply = call("POST", "/notes", body={"content": "x" * 10_001})
    assert reply.status == 400
    assert reply.body["message"] == "content: String should have at most 10000 characters"


def test_content_of_exactly_the_limit_is_accepted(call):
    # GIVEN exactly 10,000 characters WHEN creating THEN 201
    assert call("POST", "/notes", body={"content": "é" * 10_000}).status == 201


@pytest.mark.parametrize("content", [123, None, ["a"], {"text": "a"}, True])
def test_wrong_type_for_content_is_400(call, content):
    # GIVEN content that is not a string WHEN creating THEN 400 naming content (no coercion)
    _assert_400_naming(call("POST", "/notes", body={"content": content}), "content")


def test_body_that_is_not_an_object_is_400(call):
    # GIVEN a JSON array as the body WHEN creating THEN 400 naming the body
    _assert_400_naming(call("POST", "/notes", body=["content"]), "body")


def test_extra_field_is_400_naming_it(call):
    # GIVEN a valid note with an unknown field WHEN creating THEN 400 naming the unknown field
    reply = call("POST", "/notes", body={"content": "ok", "userId": "someone-else"})
    _assert_400_naming(reply, "userId")
    assert reply.body["message"] == "userId: Extra inputs are not permitted"


def test_validation_message_never_echoes_the_input(call):
    # GIVEN a rejected value that looks like a secret WHEN creating THEN it is not in the answer
    reply = call("POST", "/notes", body={"content": 5, "password": "hunter2-secret"})
    assert reply.status == 400
    assert "hunter2-secret" not in reply.raw["body"]


def test_put_validates_like_post(call):
    # GIVEN an existing note WHEN replacing it with an over-long content THEN 400 and the note is unchanged
    note = call("POST", "/notes", body={"content": "keep"}).body
    reply = call("PUT", f"/notes/{note['noteId']}", body={"content": "x" * 10_001})
    _assert_400_naming(reply, "content")
    assert call("GET", f"/notes/{note['noteId']}").body["content"] == "keep"


def test_oversize_body_is_413(call, aws):
    # GIVEN a body larger than the handler accepts WHEN creating THEN 413 and nothing is stored
    reply = call("POST", "/notes", raw_body='{"content": "' + "x" * MAX_BODY_BYTES + '"}')
    assert reply.status == 413
    assert reply.body["message"].startswith("body: ")
    assert aws.scan(TableName=TABLE)["Count"] == 0


def test_attachment_request_needs_a_filename(call):
    # GIVEN an attachment request with an empty or missing filename THEN 400 naming filename
    _assert_400_naming(call("POST", "/attachments", body={"filename": ""}), "filename")
    _assert_400_naming(call("POST", "/attachments", body={}), "filename")
    _assert_400_naming(call("POST", "/attachments", body={"filename": "a" * 201}), "filename")


def test_attachment_request_rejects_a_bad_content_type(call):
    _assert_400_naming(
        call("POST", "/attachments", body={"filename": "a.txt", "contentType": "x"}), "contentType"
    )


def test_non_json_content_type_is_415(call):
    # GIVEN a form-encoded body WHEN creating a note THEN 415 asking for JSON
    event = rest_event("POST", "/notes", raw_body="content=x")
    event["headers"]["Content-Type"] = "text/plain"
    event["multiValueHeaders"]["Content-Type"] = ["text/plain"]
    reply = call(event=event)
    assert reply.status == 415
    assert reply.body == {"message": "body: send application/json"}
