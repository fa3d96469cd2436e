"""CRUD routes of notes-api through the real handler: create, read, replace, delete, and who may see what."""

from __future__ import annotations

from notes_api_fixtures import ALICE, BOB, TABLE, rest_event

from libs.ids import is_valid_id
from stagewise.testing import api_event


def _create(call, *, content: str = "first note", user: str = ALICE) -> dict:
    reply = call("POST", "/notes", body={"content": content}, user=user)
    assert reply.status == 201, reply.body
    return reply.body


def test_create_returns_201_with_the_stored_note(call, aws):
    # GIVEN a signed-in user
    # WHEN they create a note
    reply = call("POST", "/notes", body={"content": "buy milk"})
    # THEN the note comes back with a time-ordered id and UTC timestamps, and it is in the table
    assert reply.status == 201
    note = reply.body
    assert is_valid_id(note["noteId"])
    assert note["content"] == "buy milk"
    assert note["attachment"] is None and note["attachmentUrl"] is None
    assert note["createdAt"].endswith("Z") and note["createdAt"] == note["updatedAt"]
    assert "userId" not in note
    item = aws.get_item(TableName=TABLE, Key={"userId": {"S": ALICE}, "noteId": {"S": note["noteId"]}})[
        "Item"
    ]
    assert item["content"]["S"] == "buy milk"


def test_get_returns_the_note(call):
    # GIVEN a note
    note = _create(call)
    # WHEN its owner fetches it
    reply = call("GET", f"/notes/{note['noteId']}")
    # THEN it is returned as created
    assert reply.status == 200
    assert reply.body == note


def test_put_replaces_content_and_bumps_updated_at(call):
    # GIVEN a note
    note = _create(call)
    # WHEN its owner replaces the content
    reply = call("PUT", f"/notes/{note['noteId']}", body={"content": "changed"})
    # THEN the updated note comes back and a later read sees it
    assert reply.status == 200
    assert reply.body["content"] == "changed"
    assert reply.body["createdAt"] == note["createdAt"]
    assert reply.body["updatedAt"] >= note["updatedAt"]
    assert call("GET", f"/notes/{note['noteId']}").body["content"] == "changed"


def test_delete_returns_204_and_the_note_is_gone(call):
    # GIVEN a note
    note = _create(call)
    # WHEN its owner deletes it
    reply = call("DELETE", f"/notes/{note['noteId']}")
    # THEN the answer is an empty 204 and the note is no longer found
    assert reply.status == 204
    assert reply.body is None
    assert call("GET", f"/notes/{note['noteId']}").status == 404


def test_unknown_note_is_404_with_message(call):
    # GIVEN no notes WHEN a well-formed but unknown id is fetched
    reply = call("GET", "/notes/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    # THEN 404 with the documented message
    assert reply.status == 404
    assert reply.body == {"message": "note not found"}


def test_malformed_note_id_is_404(call):
    # GIVEN an id that cannot be a note id WHEN it is fetched, replaced or deleted
    # THEN each answers 404 like a missing note (documented choice)
    for method, body in (("GET", None), ("PUT", {"content": "x"}), ("DELETE", None)):
        reply = call(method, "/notes/not-an-id", body=body)
        assert reply.status == 404, method
        assert reply.body == {"message": "note not found"}


def test_another_users_note_is_404_for_every_method(call):
    # GIVEN Alice's note
    note = _create(call, content="alice's secret", user=ALICE)
    path = f"/notes/{note['noteId']}"
    # WHEN Bob reads, replaces or deletes it
    replies = [
        call("GET", path, user=BOB),
        call("PUT", path, user=BOB, body={"content": "bob was here"}),
        call("DELETE", path, user=BOB),
    ]
    # THEN every answer is 404 (never 403) and Alice's note is untouched
    assert [reply.status for reply in replies] == [404, 404, 404]
    assert call("GET", path, user=ALICE).body["content"] == "alice's secret"


def test_put_on_missing_note_is_404_and_creates_nothing(call, aws):
    # GIVEN no note with this id
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    # WHEN it is replaced
    reply = call("PUT", f"/notes/{missing}", body={"content": "upsert?"})
    # THEN 404 and no item was written (no upsert)
    assert reply.status == 404
    assert reply.body == {"message": "note not found"}
    assert aws.scan(TableName=TABLE)["Count"] == 0


def test_delete_missing_note_is_404(call):
    # GIVEN a note deleted once WHEN it is deleted again THEN 404
    note = _create(call)
    assert call("DELETE", f"/notes/{note['noteId']}").status == 204
    reply = call("DELETE", f"/notes/{note['noteId']}")
    assert reply.status == 404
    assert reply.body == {"message": "note not found"}


def test_request_without_an_identity_is_401(call, aws):
    # GIVEN a request that reached the handler without a Cognito identity in requestContext.identity
    # WHEN it tries to create a note (even with an invalid body)
    reply = call("POST", "/notes", user=None, body={"nope": 1})
    # THEN 401 before any validation or write
    assert reply.status == 401
    assert reply.body == {"message": "unauthorized"}
    assert aws.scan(TableName=TABLE)["Count"] == 0


def test_user_pool_claims_alone_are_401(call, aws):
    # GIVEN a request carrying only a user pool token's claims (a route still on the Cognito authorizer)
    event = api_event("POST", "/notes", body={"content": "x"}, claims={"sub": "user-pool-sub"})
    # THEN nobody is identified: 401, nothing written
    reply = call(event=event)
    assert (reply.status, reply.body) == (401, {"message": "unauthorized"})
    assert aws.scan(TableName=TABLE)["Count"] == 0


def test_notes_are_keyed_by_the_identity_id(call, aws):
    # GIVEN a note created by identity ALICE THEN the table's partition key is her identity id
    note = _create(call)
    (item,) = aws.scan(TableName=TABLE)["Items"]
    assert (item["userId"]["S"], item["noteId"]["S"]) == (ALICE, note["noteId"])


def test_browser_requests_get_cors_headers_on_success_and_error(call):
    # GIVEN requests from a web app origin
    def from_browser(method, path, *, body=None):
        event = rest_event(method, path, body=body)
        event["headers"]["Origin"] = "http://localhost:5173"
        event["multiValueHeaders"]["Origin"] = ["http://localhost:5173"]
        return call(event=event)

    # WHEN one succeeds and one fails validation THEN both carry Access-Control-Allow-Origin
    for reply in (
        from_browser("POST", "/notes", body={"content": "x"}),
        from_browser("POST", "/notes", body={}),
    ):
        headers = {**reply.raw.get("headers", {}), **reply.raw.get("multiValueHeaders", {})}
        assert headers["Access-Control-Allow-Origin"] in ("http://localhost:5173", ["http://localhost:5173"]), reply.raw
