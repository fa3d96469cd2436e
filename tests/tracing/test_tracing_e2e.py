"""Done-when of tracing: one `POST /billing` against a real `stagewise dev` is one trace across API
Gateway, the billing function (SSM, Stripe, DynamoDB, SNS) and the notify job it causes through SNS;
`stagewise logs` of both functions filtered by that trace shows their lines; the dev page shows it.

One dev per module (tests/e2e/conftest.py's fixtures): the billing function is cold on the first call.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from stagewise.errors import UserError
from stagewise.testing import httpx_auth
from tests.e2e.conftest import stagewise_cli

BODY = {"storage": 10, "source": "tok_visa"}


def wait_trace(trace_id: str, done, limit: float = 20.0) -> list[dict[str, Any]]:
    """The trace's documents (`stagewise traces ID --json`) once `done(documents)` holds."""
    deadline = time.monotonic() + limit
    documents: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        result = stagewise_cli("traces", trace_id, "--json", check=False)
        if result.returncode == 0:
            documents = json.loads(result.stdout)[0]["documents"]
            if done(documents):
                return documents
        time.sleep(0.3)
    raise AssertionError(f"trace {trace_id} incomplete after {limit} s: {json.dumps(documents)[:3000]}")


def entities(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every segment and subsegment, nested ones included."""
    found = []

    def walk(entity: dict[str, Any]) -> None:
        found.append(entity)
        for child in entity.get("subsegments") or []:
            walk(child)

    for document in documents:
        walk(document)
    return found


def by_parent(documents: list[dict[str, Any]]) -> dict[str, str]:
    """id → parent id, whether the parent is named (`parent_id`) or the nesting."""
    parents: dict[str, str] = {}

    def walk(entity: dict[str, Any], parent: str | None) -> None:
        if entity.get("parent_id") or parent:
            parents[entity["id"]] = entity.get("parent_id") or parent
        for child in entity.get("subsegments") or []:
            walk(child, entity["id"])

    for document in documents:
        walk(document, None)
    return parents


def ancestors(entity_id: str, parents: dict[str, str]) -> list[str]:
    chain = []
    while entity_id in parents:
        entity_id = parents[entity_id]
        chain.append(entity_id)
    return chain


def complete(documents: list[dict[str, Any]]) -> bool:
    names = [(e.get("origin"), e.get("name"), (e.get("aws") or {}).get("operation")) for e in entities(documents)]
    functions = [n for n in names if n[0] == "AWS::Lambda::Function"]
    sms = [n for n in names if n[2] == "Publish"]
    return len(functions) == 2 and len(sms) == 2


@pytest.fixture(scope="module")
def purchase(dev, alice_credentials) -> tuple[httpx.Response, list[dict[str, Any]]]:
    with httpx.Client(base_url=f"http://127.0.0.1:{dev.port}", auth=httpx_auth(alice_credentials),
                      timeout=30) as api:
        response = api.post("/billing", json=BODY, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 200, response.text
    root = response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")
    return response, wait_trace(root, complete)


def test_one_purchase_is_one_trace_across_gateway_functions_stripe_and_sns(purchase, alice_credentials) -> None:
    response, documents = purchase
    trace_id = response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")
    everything = entities(documents)
    assert {e.get("trace_id") for e in documents} == {trace_id}
    parents = by_parent(documents)
    ids = {e["id"]: e for e in everything}

    gateway = [e for e in everything if e.get("origin") == "AWS::ApiGateway::Stage"]
    assert len(gateway) == 1 and gateway[0]["http"]["response"]["status"] == 200
    assert gateway[0]["http"]["request"]["method"] == "POST"
    functions = {e["name"].rsplit("-", 1)[-1]: e for e in everything if e.get("origin") == "AWS::Lambda::Function"}
    billing, notify = functions["billing"], functions["notify"]
    assert parents[billing["id"]] == gateway[0]["id"]
    assert [s["name"] for s in billing["subsegments"]] == ["Initialization", "Invocation"]  # the first call is cold

    def function_of(entity_id: str) -> str | None:
        return next((a for a in ancestors(entity_id, parents) if ids[a].get("origin") == "AWS::Lambda::Function"), None)

    def under(function: dict[str, Any], namespace: str, test) -> list[dict[str, Any]]:
        return [e for e in everything if e.get("namespace") == namespace and test(e) and function_of(e["id"]) == function["id"]]

    def aws_call(function: dict[str, Any], service: str, operation: str) -> dict[str, Any]:
        found = under(function, "aws", lambda e: e["name"] == service and e["aws"].get("operation") == operation)
        seen = [(e.get("namespace"), e["name"], (e.get("aws") or {}).get("operation")) for e in everything]
        assert found, f"no {service} {operation} under {function['name']}: {seen}"
        return found[0]

    aws_call(billing, "ssm", "GetParameter")
    aws_call(billing, "dynamodb", "PutItem")  # the idempotency record
    publish = aws_call(billing, "sns", "Publish")
    stripe = under(billing, "remote", lambda e: "/v1/charges" in (e.get("http") or {}).get("request", {}).get("url", ""))
    assert stripe and stripe[0]["http"]["response"]["status"] == 200
    handler = [e for e in everything if e["name"] == "## handler" and function_of(e["id"]) == billing["id"]]
    assert handler[0]["annotations"]["ColdStart"] is True
    assert handler[0]["annotations"]["identity_id"] == alice_credentials["identityId"]

    # the SNS hop: the notify job's invocation continues the trace from billing's Publish
    assert parents[notify["id"]] == publish["id"], (publish, ids.get(parents[notify["id"]]))
    aws_call(notify, "sns", "Publish")  # the SMS

    # times nest: every child inside its parent (the asynchronous notify job starts after its publish)
    for child_id, parent_id in parents.items():
        child, parent = ids[child_id], ids.get(parent_id)
        if parent is None:
            continue
        assert child["start_time"] >= parent["start_time"] - 0.001, (child["name"], parent["name"])
        if child is not notify:
            assert child["end_time"] <= parent["end_time"] + 0.001, (child["name"], parent["name"])


def test_logs_of_both_functions_filtered_by_the_trace(purchase) -> None:
    response, _ = purchase
    trace_id = response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")
    for function, message in (("Billing", "charged"), ("Notify", "admin notified")):
        result = stagewise_cli("logs", function, "--trace", trace_id, "--json")
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert lines and {line["trace_id"] for line in lines} == {trace_id}
        assert message in [(line["record"] or {}).get("message") for line in lines]
        pretty = stagewise_cli("logs", function, "--trace", trace_id).stdout
        assert message in pretty and "INFO" in pretty


def test_the_dev_page_and_console_show_the_trace(dev, purchase) -> None:
    response, _ = purchase
    trace_id = response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")
    page = httpx.get(f"http://127.0.0.1:{dev.port}/_stagewise/traces", timeout=10)
    assert page.status_code == 200 and trace_id in page.text
    one = httpx.get(f"http://127.0.0.1:{dev.port}/_stagewise/traces/{trace_id}", timeout=10)
    assert one.status_code == 200 and "<td>Lambda</td>" in one.text and "Initialization" in one.text
    assert "POST /billing 200" in dev.log() and f"trace {trace_id}" in dev.log()
    waterfall = stagewise_cli("traces", trace_id).stdout
    assert "Initialization" in waterfall and "Publish" in waterfall


def test_unknown_trace_is_one_line_exit_1(dev) -> None:
    result = stagewise_cli("traces", "1-00000000-000000000000000000000000", check=False)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "no trace 1-00000000" in result.stderr


def test_no_xray_permission_is_one_line_naming_the_action(dev, alice_credentials) -> None:
    """A Cognito identity's credentials may not read X-Ray: the local cloud refuses as AWS would."""
    import boto3

    from stagewise.localstage import connect
    from stagewise.tracing import aws

    xray = boto3.client("xray", region_name="us-east-1", endpoint_url=connect("local").endpoint,
                        aws_access_key_id=alice_credentials["accessKeyId"],
                        aws_secret_access_key=alice_credentials["secretAccessKey"],
                        aws_session_token=alice_credentials["sessionToken"])
    with pytest.raises(UserError) as raised:
        aws.recent_traces(xray, since=None, last=5, errors=False)
    assert "no permission for xray:GetTraceSummaries" in str(raised.value) and "\n" not in str(raised.value)
    assert raised.value.exit_code == 1


def test_bad_input_is_one_line(dev) -> None:
    unknown = stagewise_cli("logs", "NoSuchFunction", check=False)
    assert unknown.returncode == 1 and unknown.stderr.count("\n") == 1
    assert "no logs of function 'NoSuchFunction'" in unknown.stderr and "Billing" in unknown.stderr
    since = stagewise_cli("traces", "--since", "ten minutes", check=False)
    assert since.returncode == 2 and since.stderr.count("\n") == 1 and "--since takes a number and a unit" in since.stderr


def test_a_deployed_stages_function_is_found_in_its_stacks(dev) -> None:
    """What `stagewise logs FUNCTION --stage S` reads on AWS, here through the local cloud's CloudFormation API."""
    from stagewise.commands.logs import _deployed_name
    from stagewise.localstage import connect

    stage = connect("local")
    cloudformation = stage.client("cloudformation")
    assert _deployed_name(cloudformation, stage.project, stage.stage, "Billing") == "local-notes-billing-api-billing"
    assert _deployed_name(cloudformation, stage.project, stage.stage, "local-notes-notify-job-notify") == \
        "local-notes-notify-job-notify"
    with pytest.raises(UserError, match="no function 'Nope' in stage local's stacks"):
        _deployed_name(cloudformation, stage.project, stage.stage, "Nope")


def test_logs_follow_prints_new_lines_as_they_come(dev, alice_credentials) -> None:
    import os
    import subprocess
    import sys

    follower = subprocess.Popen([sys.executable, "-m", "stagewise.cli", "logs", "Billing", "--follow", "--since", "1s",
                                 "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=os.environ.copy())
    try:
        time.sleep(1.5)  # the follower has read what was there
        with httpx.Client(base_url=f"http://127.0.0.1:{dev.port}", auth=httpx_auth(alice_credentials),
                          timeout=30) as api:
            response = api.post("/billing", json=BODY)
        trace_id = response.headers["X-Amzn-Trace-Id"].split(";")[0].removeprefix("Root=")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            text = follower.stdout.readline()
            assert text, follower.stderr.read()
            line = json.loads(text)
            if line["trace_id"] == trace_id and (line["record"] or {}).get("message") == "charged":
                return
        raise AssertionError("the followed logs never showed the new purchase")
    finally:
        follower.kill()
        follower.wait()
