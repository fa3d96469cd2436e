"""stagewise.testing's handler-test helpers: events a real Powertools handler accepts, a context, moto."""

from __future__ import annotations

import json
import os

import boto3
import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import SNSEvent

from stagewise.testing import (
    TEST_ACCOUNT,
    add_import_paths,
    api_event,
    create_table,
    lambda_context,
    mocked_aws,
    running_cloud,
    sns_event,
)


def _echo_app() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    @app.post("/notes/<note_id>")
    def echo(note_id: str) -> dict:
        event = app.current_event
        return {
            "id": note_id,
            "sub": event.request_context.authorizer.claims["sub"],
            "body": event.json_body,
            "q": event.get_query_string_value("q"),
        }

    return app


def test_api_event_is_routed_by_powertools_with_path_claims_body_and_query():
    # GIVEN a templated path, claims, a JSON body and a query WHEN a resolver handles the event
    event = api_event("POST", "/notes/{id}", path_parameters={"id": "n1"}, claims={"sub": "u-1", "exp": 0},
                      body={"content": "hi"}, query={"q": "x"})
    reply = _echo_app().resolve(event, lambda_context())
    # THEN the route matched the filled path and every part arrived
    assert reply["statusCode"] == 200
    assert json.loads(reply["body"]) == {"id": "n1", "sub": "u-1", "body": {"content": "hi"}, "q": "x"}
    assert (event["resource"], event["path"], event["pathParameters"]) == ("/notes/{id}", "/notes/n1", {"id": "n1"})
    assert event["requestContext"]["authorizer"]["claims"]["exp"] == "Thu Jan 01 00:00:00 UTC 1970"
    assert event["requestContext"]["path"] == "/test/notes/n1"
    assert event["requestContext"]["accountId"] == TEST_ACCOUNT


def test_api_event_without_body_or_claims_has_api_gateway_nulls():
    event = api_event("GET", "/health")
    assert (event["body"], event["queryStringParameters"], event["pathParameters"]) == (None, None, None)
    assert "authorizer" not in event["requestContext"]
    assert "Content-Type" not in event["headers"]


def test_api_event_body_text_is_sent_as_is_and_headers_override():
    event = api_event("POST", "/x", body="content=x", headers={"Content-Type": "text/plain", "X-Id": "1"})
    assert event["body"] == "content=x" and not event["isBase64Encoded"]
    assert (event["headers"]["Content-Type"], event["multiValueHeaders"]["X-Id"]) == ("text/plain", ["1"])
    binary = api_event("POST", "/x", body=b"\xff\x00", headers={"Content-Type": "image/png"})
    assert binary["isBase64Encoded"] and binary["body"] == "/wA="


def test_api_event_names_a_missing_path_parameter():
    with pytest.raises(ValueError, match=r"\{id\}: pass path_parameters"):
        api_event("GET", "/notes/{id}")
    assert api_event("GET", "/files/{key+}", path_parameters={"key": "a/b"})["path"] == "/files/a/b"


def test_sns_event_has_one_record_per_message_for_the_topic():
    topic = "arn:aws:sns:us-east-1:123456789012:purchases"
    event = SNSEvent(sns_event("one", "two", topic_arn=topic))
    records = list(event.records)
    assert [record.sns.message for record in records] == ["one", "two"]
    assert {record.sns.topic_arn for record in records} == {topic}
    assert records[0].event_subscription_arn.startswith(topic + ":")
    assert records[0].sns.message_id != records[1].sns.message_id


def test_lambda_context_names_the_function_and_counts_down():
    first, second = lambda_context("dev-notes-x", timeout_ms=3000), lambda_context("dev-notes-x")
    assert first.invoked_function_arn == f"arn:aws:lambda:us-east-1:{TEST_ACCOUNT}:function:dev-notes-x"
    assert 0 < first.get_remaining_time_in_millis() <= 3000
    assert first.aws_request_id != second.aws_request_id
    assert lambda_context(request_id="r-1").aws_request_id == "r-1"
    assert first.log_group_name == "/aws/lambda/dev-notes-x"


def test_mocked_aws_sets_and_restores_the_environment(monkeypatch):
    # GIVEN a developer's endpoint and a variable of their own
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("TABLE_NAME", "theirs")
    with mocked_aws({"TABLE_NAME": "ours"}):
        # THEN inside: our env, no endpoint, and moto answers
        assert os.environ["TABLE_NAME"] == "ours" and "AWS_ENDPOINT_URL" not in os.environ
        client = boto3.client("dynamodb")
        create_table(client, "t", hash_key="userId", range_key="noteId")
        table = client.describe_table(TableName="t")["Table"]
    # AND after: theirs again
    assert (os.environ["TABLE_NAME"], os.environ["AWS_ENDPOINT_URL"]) == ("theirs", "http://127.0.0.1:4566")
    assert [(k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]] == [("userId", "HASH"), ("noteId", "RANGE")]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_running_cloud_serves_on_a_free_port_and_stops(tmp_path):
    from stagewise.cloud import client

    with running_cloud(tmp_path / "cloud") as cloud:
        sqs = client(cloud.endpoint, account_id="111111111111", region="us-east-1", service="sqs")
        sqs.create_queue(QueueName="q")
        assert cloud.status().running and cloud.endpoint.startswith("http://127.0.0.1:")
    assert not cloud.status().running


def test_add_import_paths_puts_folders_first_once(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.path", ["/elsewhere"])
    import sys

    add_import_paths(tmp_path / "service", tmp_path)
    add_import_paths(tmp_path)
    assert sys.path == [str(tmp_path), str(tmp_path / "service"), "/elsewhere"]


def test_a_dev_process_that_will_not_stop_is_killed_with_what_it_started_in_other_sessions(tmp_path):
    import subprocess
    import sys
    import time
    from pathlib import Path

    from stagewise.testing import DevProcess

    # a stand-in for `stagewise dev` that ignores Ctrl-C and runs a child in a session of its own (as
    # dev runs the local cloud): the child would outlive a kill of dev's process group
    script = ("import signal, subprocess, sys, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True)\n"
              f"open({str(tmp_path / 'child')!r}, 'w').write(str(child.pid))\ntime.sleep(60)\n")
    dev = DevProcess(port=0, cloud_port=0)
    dev.stop_wait_s = 0.5
    dev.proc = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 10
    while not (tmp_path / "child").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    child = int((tmp_path / "child").read_text())
    dev.stop()
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child}").exists() and "Z" not in Path(f"/proc/{child}/stat").read_text().split()[2]:
        assert time.monotonic() < deadline, "the child in its own session outlived the forced stop"
        time.sleep(0.02)


def test_a_dev_trees_cpu_counts_its_children_too() -> None:
    """`DevProcess.cpu_s` (make bench's idle-CPU row) sums the whole tree, not just dev itself."""
    import subprocess
    import sys
    import time

    from stagewise.testing import DevProcess

    spin = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass\ntime.sleep(30)"
    parent = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys, time\n"
                               f"subprocess.Popen([sys.executable, '-c', {spin!r}])\ntime.sleep(30)"])
    tree = DevProcess(port=1, cloud_port=2)
    tree.proc = parent
    try:
        deadline = time.monotonic() + 20
        while tree.cpu_s() < 0.6 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(tree.pids()) == 2 and tree.cpu_s() >= 0.6  # the child's spin, counted through the parent
    finally:
        for pid in tree.pids()[1:]:
            os.kill(pid, 9)
        parent.kill()
        parent.wait()
