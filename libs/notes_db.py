"""The notes table: one user's notes, keyed `userId` (HASH) + `noteId` (RANGE, time-ordered id).

Data flow: handlers pass plain values in and get `NoteRecord`s back; this module turns them
into DynamoDB attribute maps, calls the low-level client (built once per container by
`libs.aws`) and maps DynamoDB's conditional failures to `NoteNotFound`. Every operation is
scoped by the caller's user id, so a note of another user is simply "not found".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from libs import aws


class NoteNotFound(LookupError):
    """No note with this id exists for this user."""


@dataclasses.dataclass(frozen=True)
class NoteRecord:
    """One stored note, as the table holds it."""

    user_id: str
    note_id: str
    content: str
    attachment: str | None
    created_at: str
    updated_at: str


@dataclasses.dataclass(frozen=True)
class NotesPage:
    """One page of a user's notes, newest first; `last_note_id` is where the next page starts (or None)."""

    items: list[NoteRecord]
    last_note_id: str | None


class NotesTable:
    """Put / get / query-page / update / delete of one user's notes in one table."""

    def __init__(self, table_name: str, *, client_factory: Callable[[], Any] | None = None) -> None:
        self.table_name = table_name
        self._client_factory = client_factory or (lambda: aws.client("dynamodb"))

    @property
    def _client(self) -> Any:
        return self._client_factory()

    def put(self, record: NoteRecord) -> None:
        """Store a new note (refuses to overwrite an existing id)."""
        self._client.put_item(
            TableName=self.table_name,
            Item=_to_item(record),
            ConditionExpression="attribute_not_exists(noteId)",
        )

    def get(self, user_id: str, note_id: str) -> NoteRecord | None:
        """The note, or None when this user has no note with this id."""
        reply = self._client.get_item(
            TableName=self.table_name, Key=_key(user_id, note_id), ConsistentRead=True
        )
        item = reply.get("Item")
        return _from_item(item) if item else None

    def query_page(self, user_id: str, *, limit: int, after_note_id: str | None = None) -> NotesPage:
        """Up to `limit` notes, newest first, starting after `after_note_id` (exclusive)."""
        params: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "userId = :u",
            "ExpressionAttributeValues": {":u": {"S": user_id}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if after_note_id is not None:
            params["ExclusiveStartKey"] = _key(user_id, after_note_id)
        reply = self._client.query(**params)
        items = [_from_item(item) for item in reply.get("Items", [])]
        if len(items) > limit:
            return NotesPage(items=items[:limit], last_note_id=items[limit - 1].note_id)
        last_key = reply.get("LastEvaluatedKey")
        return NotesPage(items=items, last_note_id=last_key["noteId"]["S"] if last_key else None)

    def update(
        self, user_id: str, note_id: str, *, content: str, attachment: str | None, updated_at: str
    ) -> NoteRecord:
        """Replace content and attachment of an existing note; NoteNotFound if it does not exist (no upsert)."""
        values: dict[str, Any] = {":c": {"S": content}, ":u": {"S": updated_at}}
        expression = "SET content = :c, updatedAt = :u"
        if attachment is None:
            expression += " REMOVE attachment"
        else:
            expression += ", attachment = :a"
            values[":a"] = {"S": attachment}
        reply = self._conditional(
            "update_item",
            Key=_key(user_id, note_id),
            UpdateExpression=expression,
            ExpressionAttributeValues=values,
            ReturnValues="ALL_NEW",
        )
        return _from_item(reply["Attributes"])

    def delete(self, user_id: str, note_id: str) -> None:
        """Delete an existing note; NoteNotFound if it does not exist."""
        self._conditional("delete_item", Key=_key(user_id, note_id))

    def _conditional(self, operation: str, **params: Any) -> dict[str, Any]:
        client = self._client
        try:
            return getattr(client, operation)(
                TableName=self.table_name, ConditionExpression="attribute_exists(noteId)", **params
            )
        except client.exceptions.ConditionalCheckFailedException as exc:
            raise NoteNotFound(f"note {params['Key']['noteId']['S']} not found") from exc


def _key(user_id: str, note_id: str) -> dict[str, Any]:
    return {"userId": {"S": user_id}, "noteId": {"S": note_id}}


def _to_item(record: NoteRecord) -> dict[str, Any]:
    item = {
        **_key(record.user_id, record.note_id),
        "content": {"S": record.content},
        "createdAt": {"S": record.created_at},
        "updatedAt": {"S": record.updated_at},
    }
    if record.attachment is not None:
        item["attachment"] = {"S": record.attachment}
    return item


def _from_item(item: dict[str, Any]) -> NoteRecord:
    attachment = item.get("attachment")
    return NoteRecord(
        user_id=item["userId"]["S"],
        note_id=item["noteId"]["S"],
        content=item["content"]["S"],
        attachment=attachment["S"] if attachment else None,
        created_at=item["createdAt"]["S"],
        updated_at=item["updatedAt"]["S"],
    )
