"""What each notes-api route does, independent of HTTP: the caller's notes in, response models out.

Data flow: a route passes the caller's id (their Cognito identity id) and the validated request model; this module
checks attachment keys, reads / writes the notes table (`libs.notes_db`), adds presigned
download URLs and returns the response models. A missing note (or another user's note, or a
malformed id) raises NotFoundError("note not found") → 404.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime

from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from libs.ids import is_valid_id, new_id
from libs.notes_db import NoteNotFound, NoteRecord, NotesTable
from libs.settings import NotesSettings, load

from . import attachments, cursor
from .models import URL_TTL_SECONDS, AttachmentIn, AttachmentOut, NoteIn, NoteOut, NotesPageOut

NOT_FOUND = "note not found"


@functools.cache
def table() -> NotesTable:
    """The notes table of this stage (built on first use, once per container)."""
    return NotesTable(load(NotesSettings).table_name)


def create(user_id: str, body: NoteIn) -> NoteOut:
    """Store a new note for the caller."""
    if body.attachment is not None:
        attachments.check_key(user_id, body.attachment)
    now_ms = time.time_ns() // 1_000_000
    stamp = _iso(now_ms)
    record = NoteRecord(
        user_id=user_id,
        note_id=new_id(now_ms),
        content=body.content,
        attachment=body.attachment,
        created_at=stamp,
        updated_at=stamp,
    )
    table().put(record)
    return to_out(record)


def list_page(user_id: str, *, limit: int, after: str | None) -> NotesPageOut:
    """One page of the caller's notes, newest first; `after` is a cursor from a previous page."""
    after_note_id = cursor.decode(user_id, after) if after else None
    page = table().query_page(user_id, limit=limit, after_note_id=after_note_id)
    next_cursor = cursor.encode(user_id, page.last_note_id) if page.last_note_id else None
    return NotesPageOut(items=[to_out(record) for record in page.items], cursor=next_cursor)


def get(user_id: str, note_id: str) -> NoteOut:
    """The caller's note `note_id`."""
    record = table().get(user_id, _checked(note_id))
    if record is None:
        raise NotFoundError(NOT_FOUND)
    return to_out(record)


def replace(user_id: str, note_id: str, *, body: NoteIn) -> NoteOut:
    """Replace content and attachment of the caller's existing note (never creates one)."""
    if body.attachment is not None:
        attachments.check_key(user_id, body.attachment)
    try:
        record = table().update(
            user_id,
            _checked(note_id),
            content=body.content,
            attachment=body.attachment,
            updated_at=_iso(time.time_ns() // 1_000_000),
        )
    except NoteNotFound as exc:
        raise NotFoundError(NOT_FOUND) from exc
    return to_out(record)


def delete(user_id: str, note_id: str) -> None:
    """Delete the caller's existing note."""
    try:
        table().delete(user_id, _checked(note_id))
    except NoteNotFound as exc:
        raise NotFoundError(NOT_FOUND) from exc


def new_attachment(user_id: str, body: AttachmentIn) -> AttachmentOut:
    """A fresh key under the caller's prefix and a presigned PUT URL for it."""
    key = attachments.new_key(user_id, body.filename)
    url = attachments.upload_url(bucket=_bucket(), key=key, content_type=body.contentType)
    return AttachmentOut(key=key, uploadUrl=url, expiresIn=URL_TTL_SECONDS)


def to_out(record: NoteRecord) -> NoteOut:
    """The response shape of a stored note (with a presigned download URL when it has an attachment)."""
    url = attachments.download_url(bucket=_bucket(), key=record.attachment) if record.attachment else None
    return NoteOut(
        noteId=record.note_id,
        content=record.content,
        attachment=record.attachment,
        attachmentUrl=url,
        createdAt=record.created_at,
        updatedAt=record.updated_at,
    )


def _checked(note_id: str) -> str:
    if not is_valid_id(note_id):
        raise NotFoundError(NOT_FOUND)
    return note_id


def _bucket() -> str:
    return load(NotesSettings).bucket_name


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
