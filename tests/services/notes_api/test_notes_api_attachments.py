"""Attachments: upload URLs inside the caller's `private/<identity id>/` prefix, download URLs on notes, key checks."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlparse

import requests
from notes_api_fixtures import ALICE, BOB, BUCKET, TABLE


def _upload(
    call, *, filename: str = "photo.png", content_type: str | None = "image/png", user: str = ALICE
) -> dict:
    body = {"filename": filename, **({"contentType": content_type} if content_type else {})}
    reply = call("POST", "/attachments", body=body, user=user)
    assert reply.status == 201, reply.body
    return reply.body


def test_upload_url_points_at_the_bucket_and_the_callers_prefix(call):
    # GIVEN a signed-in user WHEN they ask for an upload URL
    upload = _upload(call)
    # THEN the key is under private/<identity id>/, the URL is a presigned PUT of that key in the bucket
    assert upload["key"].startswith(f"private/{ALICE}/")
    assert upload["key"].endswith("-photo.png")
    assert upload["expiresIn"] == 300
    url = urlparse(upload["uploadUrl"])
    assert url.hostname == f"{BUCKET}.s3.amazonaws.com"
    assert unquote(url.path) == "/" + upload["key"]
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["300"]
    assert "content-type" in query["X-Amz-SignedHeaders"][0]


def test_filename_is_sanitised_in_the_key(call):
    # GIVEN a file name with path parts and odd characters WHEN asking for an upload URL
    upload = _upload(call, filename="../../etc/pass wd?.txt", content_type=None)
    # THEN the key stays inside the caller's prefix with a safe name
    assert upload["key"].startswith(f"private/{ALICE}/")
    assert upload["key"].endswith("-pass_wd_.txt")
    assert ".." not in upload["key"]


def test_uploaded_attachment_can_be_downloaded_through_the_note(call):
    # GIVEN a file uploaded through the presigned PUT URL
    upload = _upload(call, filename="hello.txt", content_type="text/plain")
    put = requests.put(upload["uploadUrl"], data=b"hello", headers={"Content-Type": "text/plain"}, timeout=5)
    assert put.status_code == 200
    # WHEN a note references it and is read back (one, and in the list)
    note = call("POST", "/notes", body={"content": "see file", "attachment": upload["key"]}).body
    one = call("GET", f"/notes/{note['noteId']}").body
    listed = call("GET", "/notes").body["items"][0]
    # THEN both carry a presigned GET URL of that key that returns the bytes
    for shown in (one, listed):
        assert shown["attachment"] == upload["key"]
        url = urlparse(shown["attachmentUrl"])
        assert unquote(url.path) == "/" + upload["key"]
        assert parse_qs(url.query)["X-Amz-Expires"] == ["300"]
    assert requests.get(one["attachmentUrl"], timeout=5).content == b"hello"


def test_attachment_outside_the_callers_prefix_is_400(call, aws):
    # GIVEN keys that are not under Alice's own prefix
    bobs_key = _upload(call, user=BOB)["key"]
    for key in (
        bobs_key,
        "public/file.png",
        f"private/{ALICE}/",
        f"private/{ALICE}/../{BOB}/x",
        f"private/{ALICE}",
    ):
        # WHEN Alice creates a note with one THEN 400 naming the attachment, nothing stored
        reply = call("POST", "/notes", body={"content": "x", "attachment": key})
        assert reply.status == 400, key
        assert reply.body["message"].startswith("attachment: "), reply.body
    assert aws.scan(TableName=TABLE)["Count"] == 0


def test_put_checks_the_attachment_prefix_and_can_remove_it(call):
    # GIVEN a note with an attachment
    key = _upload(call)["key"]
    note = call("POST", "/notes", body={"content": "x", "attachment": key}).body
    path = f"/notes/{note['noteId']}"
    # WHEN it is replaced with a foreign key THEN 400; WHEN replaced without attachment THEN it is removed
    assert call("PUT", path, body={"content": "x", "attachment": f"private/{BOB}/a"}).status == 400
    replaced = call("PUT", path, body={"content": "y"}).body
    assert replaced["attachment"] is None and replaced["attachmentUrl"] is None


def test_a_file_the_client_uploaded_itself_under_its_prefix_is_accepted(call):
    # GIVEN a file put straight into S3 under Alice's identity prefix (as her identity credentials may)
    import boto3

    key = f"private/{ALICE}/straight-upload.txt"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=b"direct")
    # WHEN Alice creates a note with that key THEN it is stored and readable through the note
    reply = call("POST", "/notes", body={"content": "mine", "attachment": key})
    assert reply.status == 201, reply.body
    assert reply.body["attachment"] == key
    assert requests.get(reply.body["attachmentUrl"], timeout=5).content == b"direct"
    # AND Bob may not reference it: 400 naming the field, with his own prefix in the message
    refused = call("POST", "/notes", body={"content": "theirs", "attachment": key}, user=BOB)
    assert refused.status == 400
    assert refused.body["message"].startswith(f"attachment: must be a key under private/{BOB}/")
