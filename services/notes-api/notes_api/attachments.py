"""Attachment keys and presigned S3 URLs, always inside the caller's `private/<identity id>/` prefix.

The caller's id is their Cognito identity id: the prefix is the one the identity pool's role lets
the same user read and write straight to S3 with their own credentials
(`private/${cognito-identity.amazonaws.com:sub}/*`), so a key a client uploaded itself and a key
from `POST /attachments` are equally accepted.

Data flow: `new_key(user, filename)` makes a fresh key from a sanitised file name;
`check_key(user, key)` refuses a key outside the caller's prefix (BadRequestError → 400);
`upload_url` / `download_url` sign PUT / GET requests for one key with the shared S3 client.
"""

from __future__ import annotations

import re
import uuid

from aws_lambda_powertools.event_handler.exceptions import BadRequestError

from libs import aws

from .models import URL_TTL_SECONDS

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 100


def prefix(user_id: str) -> str:
    """The only S3 prefix this user's attachments may live under."""
    return f"private/{user_id}/"


def safe_filename(filename: str) -> str:
    """`filename` reduced to letters, digits, `.`, `_`, `-` (no path parts, no leading dots)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).lstrip(".")[-_MAX_NAME:]
    return name or "file"


def new_key(user_id: str, filename: str) -> str:
    """A fresh, unguessable key for a new upload of `filename` by `user_id`."""
    return f"{prefix(user_id)}{uuid.uuid4().hex}-{safe_filename(filename)}"


def check_key(user_id: str, key: str) -> None:
    """Raise BadRequestError unless `key` is a plain key under the caller's own prefix."""
    rest = key[len(prefix(user_id)) :] if key.startswith(prefix(user_id)) else ""
    if not rest or ".." in key.split("/") or "//" in key:
        raise BadRequestError(
            f"attachment: must be a key under {prefix(user_id)} (upload there with your identity "
            "credentials, or use POST /attachments)"
        )


def upload_url(*, bucket: str, key: str, content_type: str | None) -> str:
    """A presigned PUT URL for `key` (the upload must send `content_type` when one is given)."""
    params = {"Bucket": bucket, "Key": key}
    if content_type:
        params["ContentType"] = content_type
    return aws.client("s3").generate_presigned_url("put_object", Params=params, ExpiresIn=URL_TTL_SECONDS)


def download_url(*, bucket: str, key: str) -> str:
    """A presigned GET URL for `key`."""
    return aws.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=URL_TTL_SECONDS
    )
