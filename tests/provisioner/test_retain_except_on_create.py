"""DeletionPolicy Retain vs RetainExceptOnCreate, as CloudFormation documents them.

Retain keeps a resource on stack delete, on removal from the template and when the deploy that
created it rolls back. RetainExceptOnCreate is the same except for that last case: a rolled-back
create deletes it, so a fixed name (a table's) is free for the retry instead of failing
"already exists" forever.
"""

from __future__ import annotations

from typing import Any

import pytest

from stagewise.config import load_project
from stagewise.provisioner import DeployError, Provisioner, ResourceStatus, StackStatus, TemplateError
from stagewise.provisioner.events import ResourceEvent
from stagewise.stacks import render_stage
from tests.stacks.conftest import REPO

STACK = "dev-app-infra"
TABLE_NAME = "dev-app-notes"


def table(policy: str) -> dict[str, Any]:
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": policy,
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": TABLE_NAME,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        },
    }


# Created after the table (DependsOn), then refused by Lambda: its role does not exist.
FAILING = {
    "Type": "AWS::Lambda::Function",
    "DependsOn": ["Table"],
    "Properties": {
        "Role": "arn:aws:iam::123456789012:role/does-not-exist",
        "Handler": "x.handler",
        "Runtime": "python3.12",
        "Code": {"S3Bucket": "b", "S3Key": "k"},
    },
}


def tables(cloud: Any) -> list[str]:
    return cloud.client("dynamodb").list_tables()["TableNames"]


def skipped(events: list[ResourceEvent]) -> list[str]:
    return [e.logical_id for e in events if e.status is ResourceStatus.DELETE_SKIPPED]


def test_a_failed_first_create_deletes_a_retain_except_on_create_table_and_the_retry_succeeds(
    prov: Provisioner, cloud: Any
) -> None:
    with pytest.raises(DeployError, match="Rolled back"):
        prov.deploy(STACK, {"Resources": {"Table": table("RetainExceptOnCreate"), "Boom": FAILING}})
    assert tables(cloud) == []
    state = prov.deploy(STACK, {"Resources": {"Table": table("RetainExceptOnCreate")}})
    assert state.status is StackStatus.CREATE_COMPLETE and tables(cloud) == [TABLE_NAME]


def test_plain_retain_keeps_the_table_of_a_failed_first_create_so_the_retry_cannot_create_it(
    prov: Provisioner, cloud: Any, events: list[ResourceEvent]
) -> None:
    with pytest.raises(DeployError, match="Rolled back"):
        prov.deploy(STACK, {"Resources": {"Table": table("Retain"), "Boom": FAILING}})
    assert tables(cloud) == [TABLE_NAME] and skipped(events) == ["Table"]
    with pytest.raises(DeployError, match="(?i)already exists|in use"):
        prov.deploy(STACK, {"Resources": {"Table": table("Retain")}})


def test_an_update_that_adds_it_and_rolls_back_deletes_it(prov: Provisioner, cloud: Any) -> None:
    prov.deploy(STACK, {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}})
    grown = {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}, "Table": table("RetainExceptOnCreate")}
    with pytest.raises(DeployError, match="UPDATE_ROLLBACK_COMPLETE"):
        prov.deploy(STACK, {"Resources": {**grown, "Boom": FAILING}})
    assert tables(cloud) == []


def test_stack_delete_keeps_it_with_its_data(prov: Provisioner, cloud: Any, events: list[ResourceEvent]) -> None:
    prov.deploy(STACK, {"Resources": {"Table": table("RetainExceptOnCreate")}})
    cloud.client("dynamodb").put_item(TableName=TABLE_NAME, Item={"pk": {"S": "kept"}})
    prov.delete(STACK)
    assert prov.describe(STACK) is None and skipped(events) == ["Table"]
    assert cloud.client("dynamodb").get_item(TableName=TABLE_NAME, Key={"pk": {"S": "kept"}})["Item"]


def test_removal_from_the_template_keeps_it(prov: Provisioner, cloud: Any) -> None:
    topic = {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}
    prov.deploy(STACK, {"Resources": {**topic, "Table": table("RetainExceptOnCreate")}})
    plan = prov.plan(STACK, {"Resources": topic})
    assert plan.change("Table").retained
    prov.deploy(STACK, {"Resources": topic})
    assert tables(cloud) == [TABLE_NAME] and set(prov.describe(STACK).resources) == {"Topic"}


def test_update_replace_policy_has_no_retain_except_on_create(prov: Provisioner) -> None:
    wrong = {**table("RetainExceptOnCreate"), "UpdateReplacePolicy": "RetainExceptOnCreate"}
    with pytest.raises(TemplateError, match="UpdateReplacePolicy must be one of Delete, Retain, Snapshot"):
        prov.deploy(STACK, {"Resources": {"Table": wrong}})


def test_the_apps_infra_leaves_no_named_table_when_its_first_create_fails(prov: Provisioner, cloud: Any) -> None:
    project = load_project(REPO / "stagewise.toml")
    infra = render_stage(project, project.stage("dev"))["infra"]
    failing = {**FAILING, "DependsOn": ["NotesTable"]}
    broken = {**infra, "Resources": {**infra["Resources"], "Boom": failing}}
    with pytest.raises(DeployError, match="Rolled back"):
        prov.deploy("dev-notes-infra", broken)
    buckets = [b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"]]
    assert tables(cloud) == [] and [b for b in buckets if "uploadsbucket" in b] == []
    assert prov.deploy("dev-notes-infra", infra).status is StackStatus.CREATE_COMPLETE
