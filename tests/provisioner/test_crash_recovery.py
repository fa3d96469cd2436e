"""A process that dies between a create call and the state save: the next deploy finds the leftover
by the name recorded before the call, deletes it, and completes with no duplicate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagewise.provisioner import Provisioner, StackStatus
from tests.provisioner.conftest import ACCOUNT, REGION

STACK = "dev-app-infra"


class Killed(BaseException):
    """Stands in for kill -9: not an Exception, so nothing in the provisioner catches it."""


def _client_dying_after(cloud: Any, operation: str) -> Any:
    """A client factory whose `operation` on a resource of STACK reaches the cloud, then the process "dies"."""
    armed: list[str] = []

    def client(service: str) -> Any:
        made = cloud.client(service)

        def aim(params: dict[str, Any], model: Any, **_: Any) -> None:
            if model.name == operation and not str(params.get("Bucket", STACK)).startswith("stagewise-state"):
                armed.append(operation)

        def die(model: Any, **_: Any) -> None:
            if armed and model.name == operation:
                raise Killed(operation)

        made.meta.events.register("before-parameter-build", aim)
        made.meta.events.register("after-call", die)
        return made

    return client


@pytest.fixture(params=["state in the cloud", "checkpoints in a local folder"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Path | None:
    """Every case runs both ways the provisioner records in-flight progress (provisioner/store.py)."""
    return tmp_path / "provisioner" if request.param.startswith("checkpoints") else None


def _provisioner(where: Path | None, client: Any) -> Provisioner:
    return Provisioner(client, account_id=ACCOUNT, region=REGION, checkpoints=where)


TABLE = {
    "Type": "AWS::DynamoDB::Table",
    "Properties": {
        "TableName": "dev-app-notes",
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    },
}
TEMPLATE = {
    "Resources": {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
        "Table": TABLE,
        "Uploads": {"Type": "AWS::S3::Bucket", "Properties": {}, "DependsOn": ["Table"]},
    }
}


def _stack_buckets(cloud: Any) -> list[str]:
    return [b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"] if b["Name"].startswith(STACK)]


def test_a_custom_named_table_left_by_a_dead_create_is_replaced_not_duplicated(cloud: Any, where: Path | None) -> None:
    with pytest.raises(Killed):
        _provisioner(where, _client_dying_after(cloud, "CreateTable")).deploy(STACK, TEMPLATE)
    assert cloud.client("dynamodb").list_tables()["TableNames"] == ["dev-app-notes"]
    crashed = _provisioner(where, cloud.client).describe(STACK)
    assert crashed is not None and crashed.status is StackStatus.CREATE_IN_PROGRESS
    assert "Table" not in crashed.resources  # the create answered, but its result was never saved
    assert crashed.pending["Table"].name == "dev-app-notes" and crashed.pending["Table"].type == TABLE["Type"]

    state = _provisioner(where, cloud.client).deploy(STACK, TEMPLATE)
    assert state.status in (StackStatus.CREATE_COMPLETE, StackStatus.UPDATE_COMPLETE) and state.pending == {}
    assert state.resources["Table"].physical_id == "dev-app-notes"
    assert cloud.client("dynamodb").list_tables()["TableNames"] == ["dev-app-notes"]
    assert len(_stack_buckets(cloud)) == 1
    assert [t["TopicArn"] for t in cloud.client("sns").list_topics()["Topics"]] == [
        state.resources["Topic"].physical_id
    ]


def test_a_generated_bucket_name_is_known_before_the_call_and_reused_by_the_retry(cloud: Any, where: Path | None) -> None:
    with pytest.raises(Killed):
        _provisioner(where, _client_dying_after(cloud, "CreateBucket")).deploy(STACK, TEMPLATE)
    (leftover,) = _stack_buckets(cloud)
    crashed = _provisioner(where, cloud.client).describe(STACK)
    assert crashed is not None and crashed.pending["Uploads"].name == leftover

    state = _provisioner(where, cloud.client).deploy(STACK, TEMPLATE)
    assert _stack_buckets(cloud) == [leftover]  # the same deterministic name, one bucket
    assert state.resources["Uploads"].physical_id == leftover and state.pending == {}


def test_deleting_a_stack_a_dead_create_left_deletes_the_leftover_too(cloud: Any, where: Path | None) -> None:
    with pytest.raises(Killed):
        _provisioner(where, _client_dying_after(cloud, "CreateTable")).deploy(STACK, TEMPLATE)
    _provisioner(where, cloud.client).delete(STACK)
    assert cloud.client("dynamodb").list_tables()["TableNames"] == []
    assert _provisioner(where, cloud.client).describe(STACK) is None
    assert cloud.client("sns").list_topics()["Topics"] == []


def test_a_create_that_fails_clears_its_intent(cloud: Any, where: Path | None) -> None:
    cloud.client("dynamodb").create_table(
        TableName="dev-app-notes", AttributeDefinitions=TABLE["Properties"]["AttributeDefinitions"],
        KeySchema=TABLE["Properties"]["KeySchema"], BillingMode="PAY_PER_REQUEST")
    with pytest.raises(Exception, match="Table"):
        _provisioner(where, cloud.client).deploy(STACK, TEMPLATE)
    state = _provisioner(where, cloud.client).describe(STACK)
    assert state is not None and state.status is StackStatus.ROLLBACK_COMPLETE and state.pending == {}
    assert cloud.client("dynamodb").list_tables()["TableNames"] == ["dev-app-notes"]  # not ours: kept


def test_a_normal_deploy_leaves_no_intent_and_a_redeploy_writes_nothing(cloud: Any, where: Path | None) -> None:
    state = _provisioner(where, cloud.client).deploy(STACK, TEMPLATE)
    assert state.pending == {}
    stored = _provisioner(where, cloud.client).describe(STACK)
    assert stored is not None and stored.pending == {}
    writes: list[str] = []

    def counting(service: str) -> Any:
        made = cloud.client(service)
        made.meta.events.register(
            "before-call", lambda model, **_: writes.append(model.name)
            if not model.name.startswith(("Get", "List", "Describe", "Head")) else None)
        return made

    _provisioner(where, counting).deploy(STACK, TEMPLATE)
    assert writes == []


def test_a_topic_left_by_a_dead_create_is_not_duplicated(cloud: Any, where: Path | None) -> None:
    with pytest.raises(Killed):
        _provisioner(where, _client_dying_after(cloud, "CreateTopic")).deploy(STACK, TEMPLATE)
    (leftover,) = [t["TopicArn"] for t in cloud.client("sns").list_topics()["Topics"]]
    state = _provisioner(where, cloud.client).deploy(STACK, TEMPLATE)
    assert [t["TopicArn"] for t in cloud.client("sns").list_topics()["Topics"]] == [leftover]
    assert state.resources["Topic"].physical_id == leftover


def test_a_retained_resource_is_never_deleted_to_clear_an_interrupted_create(cloud: Any, where: Path | None) -> None:
    # GIVEN a retained table that already holds data (kept from an earlier stack)
    retained = {**TABLE, "DeletionPolicy": "Retain"}
    ddb = cloud.client("dynamodb")
    ddb.create_table(**{k: v for k, v in TABLE["Properties"].items()})
    ddb.put_item(TableName="dev-app-notes", Item={"pk": {"S": "kept"}})
    # WHEN a create of the same name is interrupted (it would have failed: the name is taken)
    with pytest.raises(Killed):
        _provisioner(where, _client_dying_after(cloud, "CreateTable")).deploy(STACK, {"Resources": {"Table": retained}})
    # THEN the next deploy does not delete the table to tidy up: it fails loudly instead
    with pytest.raises(Exception, match="(?i)exist|in use"):
        _provisioner(where, cloud.client).deploy(STACK, {"Resources": {"Table": retained}})
    assert ddb.get_item(TableName="dev-app-notes", Key={"pk": {"S": "kept"}})["Item"]["pk"]["S"] == "kept"


def test_a_topic_and_a_queue_left_by_a_dead_create_are_found_by_name(cloud: Any, where: Path | None) -> None:
    # GIVEN creates that died right after the topic and after the queue were made
    # (their physical ids are an ARN and a URL, not the recorded name)
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}},
                              "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}, "DependsOn": ["Topic"]}}}
    with pytest.raises(Killed):
        _provisioner(where, _client_dying_after(cloud, "CreateQueue")).deploy(STACK, template)
    # WHEN the deploy runs again THEN it completes with one topic and one queue
    state = _provisioner(where, cloud.client).deploy(STACK, template)
    assert [t["TopicArn"] for t in cloud.client("sns").list_topics()["Topics"]] == [state.resources["Topic"].physical_id]
    assert cloud.client("sqs").list_queues()["QueueUrls"] == [state.resources["Queue"].physical_id]
