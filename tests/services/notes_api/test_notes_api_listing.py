"""GET /notes: the caller's notes newest first, paged with `limit` and an opaque, validated cursor."""

from __future__ import annotations

import base64
import json

from notes_api_fixtures import ALICE, BOB


def _create_many(call, count: int, *, user: str = ALICE) -> list[str]:
    ids = []
    for index in range(count):
        reply = call("POST", "/notes", body={"content": f"note {index}"}, user=user)
        assert reply.status == 201
        ids.append(reply.body["noteId"])
    return ids


def test_lists_only_the_callers_notes_newest_first(call):
    # GIVEN three notes of Alice and one of Bob
    ids = _create_many(call, 3)
    _create_many(call, 1, user=BOB)
    # WHEN Alice lists her notes
    reply = call("GET", "/notes")
    # THEN she gets her three, newest first, and no cursor
    assert reply.status == 200
    assert [item["noteId"] for item in reply.body["items"]] == list(reversed(ids))
    assert reply.body["cursor"] is None


def test_empty_list(call):
    # GIVEN no notes WHEN listing THEN an empty page with no cursor
    reply = call("GET", "/notes")
    assert reply.status == 200
    assert reply.body == {"items": [], "cursor": None}


def test_pages_follow_the_cursor_until_null(call):
    # GIVEN five notes
    ids = _create_many(call, 5)
    # WHEN listing two at a time, following the cursor
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        reply = call("GET", "/notes", query=query)
        assert reply.status == 200, reply.body
        pages += 1
        seen += [item["noteId"] for item in reply.body["items"]]
        cursor = reply.body["cursor"]
        if cursor is None:
            break
    # THEN three pages (2, 2, 1) cover every note once, newest first
    assert pages == 3
    assert seen == list(reversed(ids))


def test_exact_multiple_of_limit_ends_without_an_empty_page(call):
    # GIVEN four notes WHEN listing two at a time
    _create_many(call, 4)
    first = call("GET", "/notes", query={"limit": "2"})
    second = call("GET", "/notes", query={"limit": "2", "cursor": first.body["cursor"]})
    # THEN the second page is the last one (cursor null), not followed by an empty page
    assert len(second.body["items"]) == 2
    assert second.body["cursor"] is None


def test_default_limit_is_20(call):
    # GIVEN 21 notes WHEN listing without a limit THEN 20 come back with a cursor
    _create_many(call, 21)
    reply = call("GET", "/notes")
    assert len(reply.body["items"]) == 20
    assert reply.body["cursor"] is not None


def test_bad_limits_are_400_naming_limit(call):
    # GIVEN limits that are not integers in 1..100
    for value in ("0", "101", "abc", "-1"):
        # WHEN listing with it THEN 400 and the message names the parameter
        reply = call("GET", "/notes", query={"limit": value})
        assert reply.status == 400, value
        assert reply.body["message"].startswith("limit: "), reply.body


def test_tampered_cursor_is_400_not_500(call):
    # GIVEN a real cursor
    _create_many(call, 3)
    cursor = call("GET", "/notes", query={"limit": "1"}).body["cursor"]
    tampered = [
        cursor[:-3] + "AAA",
        "not base64 at all!!",
        base64.urlsafe_b64encode(b'{"userId": 1}').decode(),
        base64.urlsafe_b64encode(json.dumps({"userId": ALICE, "noteId": "x"}).encode()).decode(),
        base64.urlsafe_b64encode(b"[1,2]").decode(),
    ]
    # WHEN each tampered variant is sent THEN 400 naming the cursor
    for value in tampered:
        reply = call("GET", "/notes", query={"cursor": value})
        assert reply.status == 400, value
        assert reply.body["message"].startswith("cursor: "), reply.body


def test_another_users_cursor_is_400(call):
    # GIVEN a cursor Bob received
    _create_many(call, 3, user=BOB)
    bobs_cursor = call("GET", "/notes", query={"limit": "1"}, user=BOB).body["cursor"]
    # WHEN Alice uses it THEN 400 and nothing of Bob's is returned
    reply = call("GET", "/notes", query={"cursor": bobs_cursor}, user=ALICE)
    assert reply.status == 400
    assert "items" not in reply.body
