"""libs.notes_db: one user's notes in DynamoDB (moto in-process)."""

from __future__ import annotations

import pytest

from libs.ids import new_id
from libs.notes_db import NoteNotFound, NoteRecord, NotesTable

from .conftest import TABLE

ALICE, BOB = "alice-sub", "bob-sub"


def _record(user: str, ms: int, *, content: str = "x", attachment: str | None = None) -> NoteRecord:
    stamp = f"2026-01-01T00:00:{ms % 60:02d}.000Z"
    return NoteRecord(
        user_id=user,
        note_id=new_id(ms),
        content=content,
        attachment=attachment,
        created_at=stamp,
        updated_at=stamp,
    )


@pytest.fixture
def table(dynamodb) -> NotesTable:
    return NotesTable(TABLE)


def test_put_then_get_round_trips_every_field(table):
    # GIVEN a note with an attachment WHEN stored and read back THEN it is the same record
    record = _record(ALICE, 1_000, content="héllo", attachment="private/alice-sub/a.png")
    table.put(record)
    assert table.get(ALICE, record.note_id) == record


def test_get_is_scoped_by_user(table):
    # GIVEN Alice's note WHEN Bob looks it up by id THEN there is none
    record = _record(ALICE, 1_000)
    table.put(record)
    assert table.get(BOB, record.note_id) is None


def test_put_refuses_to_overwrite(table, dynamodb):
    record = _record(ALICE, 1_000)
    table.put(record)
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        table.put(record)


def test_query_page_is_newest_first_and_pages_exactly(table):
    # GIVEN five notes of Alice and one of Bob
    records = [_record(ALICE, ms) for ms in range(1_000, 1_005)]
    for record in records:
        table.put(record)
    table.put(_record(BOB, 2_000))
    # WHEN paging two at a time
    first = table.query_page(ALICE, limit=2)
    second = table.query_page(ALICE, limit=2, after_note_id=first.last_note_id)
    third = table.query_page(ALICE, limit=2, after_note_id=second.last_note_id)
    # THEN pages are 2, 2, 1 newest first, only Alice's, and the last page has no next key
    newest_first = [r.note_id for r in reversed(records)]
    assert [r.note_id for r in first.items + second.items + third.items] == newest_first
    assert third.last_note_id is None


def test_update_replaces_and_can_remove_the_attachment(table):
    record = _record(ALICE, 1_000, attachment="private/alice-sub/a.png")
    table.put(record)
    updated = table.update(
        ALICE, record.note_id, content="new", attachment=None, updated_at="2026-02-02T00:00:00.000Z"
    )
    assert updated.content == "new" and updated.attachment is None
    assert updated.created_at == record.created_at
    assert table.get(ALICE, record.note_id) == updated


def test_update_and_delete_of_a_missing_note_raise_not_found_and_write_nothing(table, dynamodb):
    # GIVEN Alice's note WHEN Bob updates / deletes the same id THEN NoteNotFound, no item created
    record = _record(ALICE, 1_000)
    table.put(record)
    with pytest.raises(NoteNotFound):
        table.update(BOB, record.note_id, content="x", attachment=None, updated_at="t")
    with pytest.raises(NoteNotFound):
        table.delete(BOB, record.note_id)
    assert dynamodb.scan(TableName=TABLE)["Count"] == 1


def test_delete_removes_the_note(table):
    record = _record(ALICE, 1_000)
    table.put(record)
    table.delete(ALICE, record.note_id)
    assert table.get(ALICE, record.note_id) is None
