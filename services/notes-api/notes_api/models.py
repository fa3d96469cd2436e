"""Request and response bodies of the notes API (pydantic v2); the OpenAPI document is generated from them.

Data flow: the resolver validates request JSON into the `*In` models (unknown fields are
refused) and the routes return the `*Out` models, which are serialised as the response body.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from libs.ids import ID_PATTERN

MAX_CONTENT = 10_000
URL_TTL_SECONDS = 300


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(_Strict):
    """What a client sends to create or replace a note."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"content": "buy milk"}]})

    content: str = Field(min_length=1, max_length=MAX_CONTENT, description="The note's text.")
    attachment: str | None = Field(
        default=None,
        min_length=1,
        max_length=1024,
        description="S3 key of an uploaded attachment; must be under `private/<your identity id>/`.",
    )


class NoteOut(BaseModel):
    """A note as the API returns it (only ever one of the caller's own notes)."""

    noteId: str = Field(pattern=ID_PATTERN, description="Time-ordered id (26 Crockford base32 characters).")
    content: str
    attachment: str | None = None
    attachmentUrl: str | None = Field(
        default=None, description=f"Presigned GET URL of the attachment, valid {URL_TTL_SECONDS} s."
    )
    createdAt: str = Field(description="ISO 8601 UTC timestamp.")
    updatedAt: str = Field(description="ISO 8601 UTC timestamp.")


class NotesPageOut(BaseModel):
    """One page of the caller's notes, newest first."""

    items: list[NoteOut]
    cursor: str | None = Field(description="Pass as `?cursor=` to get the next page; null on the last page.")


class AttachmentIn(_Strict):
    """What a client sends to get an upload URL."""

    filename: str = Field(
        min_length=1, max_length=200, description="Original file name (sanitised in the key)."
    )
    contentType: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[\w.+-]+/[\w.+-]+$",
        description="If given, the upload must send this Content-Type.",
    )


class AttachmentOut(BaseModel):
    """Where and how to upload an attachment."""

    key: str = Field(description="S3 key to pass as a note's `attachment`.")
    uploadUrl: str = Field(description="Presigned PUT URL.")
    expiresIn: int = Field(description="Seconds the URL stays valid.")
