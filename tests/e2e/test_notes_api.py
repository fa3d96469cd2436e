"""The notes API end to end: a real `stagewise dev` over HTTP on loopback, requests signed (SigV4)
with real Cognito identity credentials from the local identity pool.

GIVEN a local stage provisioned from the app's own templates, WHEN a client calls the
API as API Gateway would receive it, THEN it gets what AWS would answer.
"""

from __future__ import annotations

import http.client
import json
import urllib.request

import pytest

from stagewise.testing import Client, api_event, sign
from tests.e2e.conftest import sign_in, stagewise_cli

pytestmark = pytest.mark.e2e


def test_an_unsigned_request_is_api_gateways_403(dev):
    status, body = Client(dev.port).call("GET", "/notes")
    assert (status, body) == (403, {"message": "Missing Authentication Token"})


def test_a_user_pool_token_is_not_a_signature(dev):
    # the routes are AWS_IAM now: an ID token in Authorization is a malformed SigV4 header, 403
    token = stagewise_cli("token", "alice@example.com").stdout.strip()
    status, _ = Client(dev.port, token).call("GET", "/notes")
    assert status == 403


def test_a_wrong_secret_is_a_signature_mismatch(dev, alice_credentials):
    forged = {**alice_credentials, "secretAccessKey": "x" * 40}
    status, body = Client(dev.port, credentials=forged).call("GET", "/notes")
    assert status == 403
    assert "signature we calculated does not match" in body["message"]


def test_the_caller_is_the_users_cognito_identity(dev, alice, alice_credentials):
    # GIVEN the same user signed in again THEN the same identity; its id is the attachments' prefix
    assert sign_in("alice@example.com")["identityId"] == alice_credentials["identityId"]
    status, upload = alice.call("POST", "/attachments", {"filename": "a.txt"})
    assert status == 201
    assert upload["key"].startswith(f"private/{alice_credentials['identityId']}/")


def test_create_read_update_delete(alice):
    status, note = alice.call("POST", "/notes", {"content": "first"})
    assert status == 201 and note["content"] == "first"
    note_id = note["noteId"]

    assert alice.call("GET", f"/notes/{note_id}") == (200, note)

    status, updated = alice.call("PUT", f"/notes/{note_id}", {"content": "changed"})
    assert status == 200 and updated["content"] == "changed"

    status, body = alice.call("DELETE", f"/notes/{note_id}")
    assert (status, body) == (204, None)
    assert alice.call("GET", f"/notes/{note_id}")[0] == 404


def test_list_is_newest_first_and_paginates(alice):
    ids = [alice.call("POST", "/notes", {"content": f"page {i}"})[1]["noteId"] for i in range(5)]
    seen, cursor = [], None
    while True:
        path = "/notes?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = alice.call("GET", path)
        assert status == 200 and len(page["items"]) <= 2
        seen += [item["noteId"] for item in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            break
    mine = [note_id for note_id in seen if note_id in ids]
    assert mine == list(reversed(ids))


def test_a_user_never_sees_another_users_note(alice, bob):
    _, note = alice.call("POST", "/notes", {"content": "alice only"})
    assert bob.call("GET", f"/notes/{note['noteId']}")[0] == 404
    assert bob.call("PUT", f"/notes/{note['noteId']}", {"content": "x"})[0] == 404
    assert bob.call("DELETE", f"/notes/{note['noteId']}")[0] == 404
    assert note["noteId"] not in [n["noteId"] for n in bob.call("GET", "/notes?limit=100")[1]["items"]]
    assert alice.call("GET", f"/notes/{note['noteId']}")[0] == 200


def test_put_on_a_missing_note_is_404_not_an_upsert(alice):
    _, note = alice.call("POST", "/notes", {"content": "to delete"})
    alice.call("DELETE", f"/notes/{note['noteId']}")
    assert alice.call("PUT", f"/notes/{note['noteId']}", {"content": "ghost"})[0] == 404
    assert alice.call("GET", f"/notes/{note['noteId']}")[0] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "content"), ({"content": 5}, "content"), ({"content": "x" * 10001}, "content"),
     ({"content": "ok", "colour": "red"}, "colour")],
)
def test_bad_bodies_get_a_4xx_naming_the_field(alice, body, field):
    status, answer = alice.call("POST", "/notes", body)
    assert 400 <= status < 500
    assert field in json.dumps(answer)


def test_malformed_json_is_a_400(dev, alice_credentials):
    conn = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=10)
    body = b"{not json"
    headers = sign(alice_credentials, "POST", f"http://127.0.0.1:{dev.port}/notes", body,
                   {"Content-Type": "application/json"})
    conn.request("POST", "/notes", body=body, headers=headers)
    response = conn.getresponse()
    assert response.status == 400
    assert "message" in json.loads(response.read())


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=abc", "cursor=not-a-cursor"])
def test_bad_query_parameters_are_a_400(alice, query):
    status, answer = alice.call("GET", f"/notes?{query}")
    assert status == 400, answer


def test_unknown_route_and_wrong_method(alice):
    assert alice.call("GET", "/nothing-here")[0] == 404
    assert alice.call("PATCH", "/notes")[0] == 405


def test_attachment_upload_and_download_through_presigned_urls(alice, alice_credentials):
    status, upload = alice.call("POST", "/attachments", {"filename": "hello.txt"})
    assert status == 201
    assert upload["key"].startswith(f"private/{alice_credentials['identityId']}/")
    request = urllib.request.Request(upload["uploadUrl"], data=b"attached bytes", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    status, note = alice.call("POST", "/notes", {"content": "with file", "attachment": upload["key"]})
    assert status == 201
    _, fetched = alice.call("GET", f"/notes/{note['noteId']}")
    with urllib.request.urlopen(fetched["attachmentUrl"], timeout=10) as response:
        assert response.read() == b"attached bytes"


def test_attachment_outside_the_callers_prefix_is_refused(alice):
    status, body = alice.call("POST", "/notes", {"content": "x", "attachment": "private/someone-else/file.txt"})
    assert status == 400 and body["message"].startswith("attachment: ")


def test_bob_cannot_attach_a_key_under_alices_prefix(alice, bob, alice_credentials, bob_credentials):
    # GIVEN a key Alice got for her own upload
    _, upload = alice.call("POST", "/attachments", {"filename": "alice.txt"})
    # WHEN Bob creates or replaces a note with it THEN 400 naming the field, with his own prefix
    status, body = bob.call("POST", "/notes", {"content": "x", "attachment": upload["key"]})
    assert status == 400
    assert body["message"].startswith(f"attachment: must be a key under private/{bob_credentials['identityId']}/")
    _, note = bob.call("POST", "/notes", {"content": "bob's"})
    assert bob.call("PUT", f"/notes/{note['noteId']}", {"content": "x", "attachment": upload["key"]})[0] == 400
    # AND a key under Bob's own identity prefix is his to use
    key = f"private/{bob_credentials['identityId']}/own.txt"
    status, created = bob.call("POST", "/notes", {"content": "own", "attachment": key})
    assert (status, created["attachment"]) == (201, key)
    assert created["attachmentUrl"]
    assert alice.call("GET", f"/notes/{created['noteId']}")[0] == 404


def test_openapi_document_is_served(dev):
    status, doc = Client(dev.port).call("GET", "/openapi.json")
    assert status == 200
    assert "/notes" in doc["paths"] and "/notes/{id}" in doc["paths"]


def test_outputs_lists_every_stack_output(dev):
    outputs = json.loads(stagewise_cli("outputs", "--json").stdout)
    infra = outputs["local-notes-infra"]
    assert infra["UserPoolId"] and infra["TableName"].startswith("local-")
    assert outputs["local-notes-notes-api"]["RestApiId"]


def test_token_prints_only_a_jwt(dev):
    out = stagewise_cli("token", "carol@example.com").stdout
    assert out.count("\n") == 1 and out.strip().count(".") == 2


def test_token_refuses_a_non_email(dev):
    result = stagewise_cli("token", "not-an-email", check=False)
    assert result.returncode == 2 and "not an email" in result.stderr


def test_invoke_runs_one_function_with_an_event(dev, tmp_path):
    event = api_event("GET", "/notes", identity="us-east-1:00000000-0000-4000-8000-00000000beef")
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    result = json.loads(stagewise_cli("invoke", "ListNotes", "--event", str(path)).stdout)
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"items": [], "cursor": None}


def test_stagewise_call_signs_as_the_user(dev, alice):
    # GIVEN a note of Alice's WHEN the CLI calls the API as her THEN it is in her list (status on stderr)
    _, note = alice.call("POST", "/notes", {"content": "via the cli"})
    url = f"http://127.0.0.1:{dev.port}"
    result = stagewise_cli("call", "GET", f"/notes/{note['noteId']}", "--as", "alice@example.com", "--url", url)
    assert result.stderr.strip() == "200"
    assert json.loads(result.stdout)["content"] == "via the cli"
    # AND as Bob the same note is 404 (exit code 1)
    other = stagewise_cli("call", "GET", f"/notes/{note['noteId']}", "--as", "bob@example.com", "--url", url,
                          check=False)
    assert (other.returncode, other.stderr.strip()) == (1, "404")


def test_credentials_json_signs_requests_too(dev, alice_credentials):
    printed = json.loads(stagewise_cli("credentials", "alice@example.com", "--json").stdout)
    assert printed["identityId"] == alice_credentials["identityId"]
    status, page = Client(dev.port, credentials=printed).call("GET", "/notes?limit=1")
    assert status == 200 and "items" in page


def test_a_file_uploaded_straight_to_s3_with_identity_credentials_can_be_attached(dev, alice, alice_credentials):
    # GIVEN Alice's own S3 client (her identity credentials, as the seed's web client uploads)
    import boto3

    from stagewise.localstage import connect

    local = connect("local")
    s3 = boto3.client("s3", endpoint_url=local.endpoint, region_name=alice_credentials["region"],
                      aws_access_key_id=alice_credentials["accessKeyId"],
                      aws_secret_access_key=alice_credentials["secretAccessKey"],
                      aws_session_token=alice_credentials["sessionToken"])
    key = f"private/{alice_credentials['identityId']}/straight.txt"
    # WHEN she puts a file under her prefix and creates a note with its key
    s3.put_object(Bucket=local.output("BucketName"), Key=key, Body=b"uploaded by the client")
    status, note = alice.call("POST", "/notes", {"content": "direct", "attachment": key})
    # THEN the note holds it and its download URL serves the bytes
    assert status == 201, note
    with urllib.request.urlopen(note["attachmentUrl"], timeout=10) as response:
        assert response.read() == b"uploaded by the client"


def _send_raw(dev, credentials, method: str, path: str, body: bytes, content_type: str = "application/json"):
    """One signed request with exactly these body bytes; (status, parsed JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=30)
    try:
        headers = sign(credentials, method, f"http://127.0.0.1:{dev.port}{path}", body, {"Content-Type": content_type})
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"content": "caf\xe9"}', "body: not valid UTF-8"),
        ('{"content": "x"}'.encode("utf-16"), "body: must be UTF-8 JSON (UTF-16 and UTF-32 are not accepted)"),
        (b'{"content": "x", "attachment": ' + b"9" * 5000 + b"}",
         "attachment: number out of range (finite, at most 64 characters)"),
        (b"[" * 10_000 + b"]" * 10_000, "body: JSON nested deeper than 32 levels"),
        (b'[{"content": "x"}]', "body: must be a JSON object"),
    ],
    ids=["invalid-utf8", "utf-16", "5000-digits", "10000-deep", "array"],
)
def test_bodies_that_answered_500_or_201_are_a_400_over_http(dev, alice_credentials, body, message):
    status, answer = _send_raw(dev, alice_credentials, "POST", "/notes", body)
    assert (status, answer["message"]) == (400, message)


def test_media_types_are_case_insensitive_over_http(dev, alice_credentials):
    body = b'{"content": "upper case"}'
    status, note = _send_raw(dev, alice_credentials, "POST", "/notes", body, "APPLICATION/JSON; Charset=UTF-8")
    assert (status, note["content"]) == (201, "upper case")
    status, answer = _send_raw(dev, alice_credentials, "POST", "/notes", body, "application/json; charset=latin-1")
    assert status == 415 and answer["message"].startswith("body: send application/json")


def test_the_served_document_lists_413_and_415_for_every_operation(dev):
    _, doc = Client(dev.port).call("GET", "/openapi.json")
    operations = [(path, method, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert len(operations) == 7  # six notes routes and POST /billing
    for path, method, op in operations:
        assert {"400", "401", "403", "413", "415", "429", "500"} <= set(op["responses"]), (path, method)
        assert op["security"] == [{"sigv4": []}], (path, method)
