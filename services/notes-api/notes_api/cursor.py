"""The opaque pagination cursor of GET /notes: base64url of the DynamoDB LastEvaluatedKey.

Data flow: `encode(user, note_id)` turns the key where a page stopped into a URL-safe string;
`decode(user, cursor)` turns it back, refusing anything that is not a key of this caller's notes
(tampered bytes, wrong shape, another user's cursor) with BadRequestError → 400, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json

from aws_lambda_powertools.event_handler.exceptions import BadRequestError

from libs.ids import is_valid_id

_INVALID = "cursor: invalid cursor (use the cursor value a previous GET /notes returned)"


def encode(user_id: str, note_id: str) -> str:
    """The cursor for the page that starts after `note_id`."""
    raw = json.dumps({"userId": user_id, "noteId": note_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(user_id: str, cursor: str) -> str:
    """The note id a cursor points after; BadRequestError unless it is this caller's valid cursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise BadRequestError(_INVALID) from exc
    if not isinstance(key, dict) or set(key) != {"userId", "noteId"}:
        raise BadRequestError(_INVALID)
    note_id = key["noteId"]
    if key["userId"] != user_id or not isinstance(note_id, str) or not is_valid_id(note_id):
        raise BadRequestError(_INVALID)
    return note_id
