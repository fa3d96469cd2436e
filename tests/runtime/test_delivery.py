"""SNS → Lambda delivery against a real moto server: delivered once, retried twice then dead-lettered, durable.

The subscription is deployed by the provisioner (a delivery queue subscribed with sqs); the
function is a tiny handler written into a temp folder that appends every event it gets to a file.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from stagewise.provisioner import Provisioner
from stagewise.provisioner.state import ResourceState, StackState, StackStatus
from stagewise.runtime import Runtime, RuntimeModel
from stagewise.runtime.delivery import ATTEMPT_ATTRIBUTE, DeliverySettings, sns_event
from tests.helpers import free_port

REGION = "us-east-1"
ACCOUNT = "123456789012"
FUNCTION_NAME = "dev-t-notify"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}

HANDLER = '''
import json, os, time

def handler(event, context):
    message = event["Records"][0]["Sns"]["Message"]
    with open(os.environ["OUT_FILE"], "a") as out:
        out.write(json.dumps({"at": time.time(), "event": event}) + "\\n")
    if message == "fail":
        raise RuntimeError("the SMS provider said no")
    if message == "slow":
        time.sleep(30)
    return {"sent": 1}
'''


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def cloud(endpoint: str) -> Callable[[str], Any]:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()

    def client(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing")

    return client


def _deploy(cloud: Callable[[str], Any], *, with_dlq: bool) -> StackState:
    resources: dict[str, Any] = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "dev-t-purchased"}},
        "Sub": {"Type": "AWS::SNS::Subscription",
                "Properties": {"TopicArn": {"Ref": "Topic"}, "Protocol": "lambda", "Endpoint": FUNCTION_ARN}},
    }
    if with_dlq:
        resources["Dlq"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "dev-t-notify-dlq"}}
    return Provisioner(cloud, account_id=ACCOUNT, region=REGION).deploy("dev-t-notify", {"Resources": resources})


def _function_stack(root: Path, *, dead_letter_arn: str | None, on_failure_arn: str | None = None) -> StackState:
    props: dict[str, Any] = {"Handler": "fn.handler", "Runtime": "python3.12", "Timeout": 3, "MemorySize": 128,
                             "Environment": {"Variables": {"OUT_FILE": str(root / "fn" / "calls.jsonl")}}}
    if dead_letter_arn:
        props["DeadLetterConfig"] = {"TargetArn": dead_letter_arn}
    function = ResourceState("Notify", "AWS::Lambda::Function", FUNCTION_NAME, props,
                             attributes={"Arn": FUNCTION_ARN}, metadata={"stagewise": {"source": "fn"}})
    resources = {"Notify": function}
    if on_failure_arn:
        resources["Config"] = ResourceState("Config", "AWS::Lambda::EventInvokeConfig", "cfg", {
            "FunctionName": FUNCTION_NAME, "Qualifier": "$LATEST", "MaximumRetryAttempts": 1,
            "DestinationConfig": {"OnFailure": {"Destination": on_failure_arn}}})
    return StackState(name="dev-t-functions", status=StackStatus.CREATE_COMPLETE, template={}, resources=resources)


class App:
    """The deployed subscription, the function's folder, and runtimes started over them."""

    def __init__(self, cloud: Callable[[str], Any], endpoint: str, root: Path, *, with_dlq: bool = True,
                 on_failure: bool = False) -> None:
        self.cloud, self.endpoint, self.root = cloud, endpoint, root
        (root / "fn").mkdir(parents=True)
        (root / "fn" / "fn.py").write_text(HANDLER)
        self.stack = _deploy(cloud, with_dlq=with_dlq)
        self.dlq_url = self.stack.resources["Dlq"].physical_id if with_dlq else None
        dlq_arn = self.stack.resources["Dlq"].attributes["Arn"] if with_dlq else None
        functions = (_function_stack(root, dead_letter_arn=None, on_failure_arn=dlq_arn) if on_failure
                     else _function_stack(root, dead_letter_arn=dlq_arn))
        self.model = RuntimeModel.from_stacks([self.stack, functions], repo_root=root)
        self.logs: list[str] = []
        self.runtimes: list[Runtime] = []

    @property
    def topic(self) -> str:
        return self.stack.resources["Topic"].physical_id

    @property
    def queue(self) -> str:
        return self.stack.resources["Sub"].attributes["DeliveryQueueUrl"]

    def start(self, delays: tuple[int, ...] = (0, 0)) -> Runtime:
        runtime = Runtime(self.model, repo_root=self.root, region=REGION, log=self.logs.append, hot_reload=False,
                          worker_env={"AWS_ENDPOINT_URL": self.endpoint, **CREDENTIALS},
                          delivery=DeliverySettings(retry_delays_s=delays))
        self.runtimes.append(runtime)
        runtime.start(port=0)
        return runtime

    def publish(self, message: str) -> str:
        return self.cloud("sns").publish(TopicArn=self.topic, Message=message, Subject="purchase",
                                         MessageAttributes={"kind": {"DataType": "String", "StringValue": "x"}})["MessageId"]

    def calls(self) -> list[dict[str, Any]]:
        path = self.root / "fn" / "calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def wait_calls(self, count: int, limit: float = 15) -> list[dict[str, Any]]:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            calls = self.calls()
            if len(calls) >= count:
                return calls
            time.sleep(0.02)
        raise AssertionError(f"{len(self.calls())} calls, wanted {count}; log:\n" + "\n".join(self.logs))

    def queued(self, url: str) -> int:
        attrs = self.cloud("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        return sum(int(attrs[k]) for k in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                                           "ApproximateNumberOfMessagesDelayed"))

    def wait_empty(self, url: str, limit: float = 10) -> None:
        deadline = time.monotonic() + limit
        while self.queued(url) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.queued(url) == 0

    def stop(self) -> None:
        for runtime in self.runtimes:
            runtime.stop()


@pytest.fixture
def app(cloud: Callable[[str], Any], endpoint: str, tmp_path: Path) -> Iterator[App]:
    made = App(cloud, endpoint, tmp_path)
    try:
        yield made
    finally:
        made.stop()


def test_sns_event_has_lambdas_shape() -> None:
    envelope = {"Type": "Notification", "MessageId": "m1", "TopicArn": "arn:aws:sns:eu-west-1:1:t", "Message": "hi",
                "Timestamp": "2026-01-01T00:00:00.000Z", "SignatureVersion": "2", "Signature": "c2ln",
                "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/cert.pem", "UnsubscribeURL": "x"}
    record = sns_event(envelope, subscription_arn="arn:aws:sns:eu-west-1:1:t:abc")["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == "arn:aws:sns:eu-west-1:1:t:abc"
    sns = record["Sns"]
    assert sns["Subject"] is None and sns["MessageAttributes"] == {}
    assert sns["SigningCertUrl"] == "https://sns.eu-west-1.amazonaws.com/cert.pem"
    assert sns["UnsubscribeUrl"].startswith("https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=")
    assert set(sns) == {"Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp", "SignatureVersion",
                        "Signature", "SigningCertUrl", "UnsubscribeUrl", "MessageAttributes"}


def test_delivered_once_with_the_sns_event_then_deleted(app: App) -> None:
    app.start()
    began = time.time()
    message_id = app.publish('{"amount": 4000}')
    call = app.wait_calls(1)[0]
    record = call["event"]["Records"][0]
    assert record["EventSubscriptionArn"] == app.stack.resources["Sub"].physical_id
    assert record["Sns"]["MessageId"] == message_id
    assert record["Sns"]["Message"] == '{"amount": 4000}'
    assert record["Sns"]["Subject"] == "purchase"
    assert record["Sns"]["TopicArn"] == app.topic
    assert record["Sns"]["MessageAttributes"] == {"kind": {"Type": "String", "Value": "x"}}
    assert call["at"] - began < 2
    app.wait_empty(app.queue)
    time.sleep(0.5)
    assert len(app.calls()) == 1
    assert any("attempt 1/3 ok" in line for line in app.logs)


def test_an_idle_subscription_long_polls_and_a_message_is_picked_up_at_once(app: App) -> None:
    """As Lambda's pollers: one long poll at a time, not a short poll ten times a second."""
    runtime = app.start()
    assert runtime.delivery is not None
    receives: list[float] = []
    runtime.delivery.sqs.meta.events.register("before-call.sqs.ReceiveMessage",
                                              lambda **_: receives.append(time.monotonic()))
    time.sleep(3)
    assert len(receives) <= 1, f"{len(receives)} receives in 3 s of idling"
    sent = time.time()
    app.publish("now")
    assert app.wait_calls(1)[0]["at"] - sent < 1.5  # moto's own long poll looks once a second


def test_failure_is_retried_twice_with_delays_then_dead_lettered(app: App) -> None:
    app.start(delays=(1, 1))
    app.publish("fail")
    calls = app.wait_calls(3)
    app.wait_empty(app.queue)
    time.sleep(1.5)
    assert len(app.calls()) == 3
    gaps = [later["at"] - earlier["at"] for earlier, later in zip(calls, calls[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    dead = app.cloud("sqs").receive_message(QueueUrl=app.dlq_url, MessageAttributeNames=["All"])["Messages"]
    assert json.loads(dead[0]["Body"])["Records"][0]["Sns"]["Message"] == "fail"
    error = dead[0]["MessageAttributes"]["ErrorMessage"]["StringValue"]
    assert "RuntimeError: the SMS provider said no" in error
    assert "RequestID" in dead[0]["MessageAttributes"]
    assert [line.split(" error")[0][-3:] for line in app.logs if " error: " in line] == ["1/3", "2/3", "3/3"]


def test_published_while_stopped_is_delivered_after_start(app: App) -> None:
    app.publish("while stopped")
    assert app.queued(app.queue) == 1
    app.start()
    assert app.wait_calls(1)[0]["event"]["Records"][0]["Sns"]["Message"] == "while stopped"
    app.wait_empty(app.queue)


def test_stop_mid_invoke_releases_the_message_for_the_next_start(app: App) -> None:
    runtime = app.start()
    app.publish("slow")
    app.wait_calls(1)
    runtime.stop()
    assert app.queued(app.queue) == 1  # not deleted, not counted as an attempt
    got = app.cloud("sqs").receive_message(QueueUrl=app.queue, MessageAttributeNames=["All"], VisibilityTimeout=0)
    assert ATTEMPT_ATTRIBUTE not in (got["Messages"][0].get("MessageAttributes") or {})
    assert any("released" in line for line in app.logs)


def test_without_a_dead_letter_queue_failures_are_kept_and_reported(
    cloud: Callable[[str], Any], endpoint: str, tmp_path: Path
) -> None:
    app = App(cloud, endpoint, tmp_path, with_dlq=False)
    try:
        app.start()
        app.publish("fail")
        app.wait_calls(3)
        app.wait_empty(app.queue)
        kept = app.queue + "-dlq" if len(app.queue.rsplit("/", 1)[-1]) <= 76 else None
        assert kept is not None
        assert app.queued(kept) == 1
        assert any("WARNING" in line and "no dead-letter queue" in line for line in app.logs)
    finally:
        app.stop()


def test_an_on_failure_destination_gets_lambdas_invocation_record(
    cloud: Callable[[str], Any], endpoint: str, tmp_path: Path
) -> None:
    app = App(cloud, endpoint, tmp_path, on_failure=True)  # MaximumRetryAttempts 1 → 2 attempts
    try:
        app.start()
        app.publish("fail")
        app.wait_calls(2)
        app.wait_empty(app.queue)
        time.sleep(0.5)
        assert len(app.calls()) == 2
        record = json.loads(app.cloud("sqs").receive_message(QueueUrl=app.dlq_url)["Messages"][0]["Body"])
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 2
        assert record["requestContext"]["functionArn"] == f"{FUNCTION_ARN}:$LATEST"
        assert record["requestPayload"]["Records"][0]["Sns"]["Message"] == "fail"
        assert record["responsePayload"]["errorType"] == "RuntimeError"
    finally:
        app.stop()
