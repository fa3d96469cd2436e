"""The notes API end to end: a real `stagewise dev` over HTTP on loopback, real Cognito tokens.

GIVEN a local stage provisioned from the app's own templates, WHEN a client calls the
API as API Gateway would receive it, THEN it gets what AWS would answer.
"""

from __future__ import annotations

import http.client
import json
import urllib.request

import pytest

from stagewise.testing import Client, api_event
from tests.e2e.conftest import stagewise_cli

pytestmark = pytest.mark.e2e


def test_without_a_token_the_gateway_answers_401(dev):
    status, body = Client(dev.port).call("GET", "/notes")
    assert (status, body) == (401, {"message": "Unauthorized"})


def test_a_forged_token_is_refused(dev, token):
    header, payload, _signature = token.split(".")
    status, _ = Client(dev.port, f"{header}.{payload}.AAAA").call("GET", "/notes")
    assert status == 401


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


def test_malformed_json_is_a_400(dev, token):
    conn = http.client.HTTPConnection("127.0.0.1", dev.port, timeout=10)
    conn.request("POST", "/notes", body="{not json", headers={"Authorization": token})
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


def test_attachment_upload_and_download_through_presigned_urls(alice):
    status, upload = alice.call("POST", "/attachments", {"filename": "hello.txt"})
    assert status == 201
    claims_sub = upload["key"].split("/")[1]
    assert upload["key"].startswith(f"private/{claims_sub}/")
    request = urllib.request.Request(upload["uploadUrl"], data=b"attached bytes", method="PUT")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    status, note = alice.call("POST", "/notes", {"content": "with file", "attachment": upload["key"]})
    assert status == 201
    _, fetched = alice.call("GET", f"/notes/{note['noteId']}")
    with urllib.request.urlopen(fetched["attachmentUrl"], timeout=10) as response:
        assert response.read() == b"attached bytes"


def test_attachment_outside_the_callers_prefix_is_refused(alice):
    status, _ = alice.call("POST", "/notes", {"content": "x", "attachment": "private/someone-else/file.txt"})
    assert status == 400


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
    event = api_event("GET", "/notes", claims={"sub": "invoke-user", "email": "i@example.com"})
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    result = json.loads(stagewise_cli("invoke", "ListNotes", "--event", str(path)).stdout)
    assert result["statusCode"] == 200
    assert json.loads(result["body"]) == {"items": [], "cursor": None}
