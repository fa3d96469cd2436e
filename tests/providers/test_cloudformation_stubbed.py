"""The provider on what only real AWS shows, fed one response at a time through botocore's Stubber:
UPDATE_ROLLBACK_FAILED (a rollback that cannot undo a resource), which the local CloudFormation
never reaches. Everything else the provider does is tested through the local cloud's
CloudFormation API (test_cloudformation.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from stagewise.providers.base import PlanError, StackHealth
from stagewise.providers.cloudformation import CloudFormationProvider, Polling

NAME = "dev-a-api"
STACK_ID = f"arn:aws:cloudformation:us-east-1:111111111111:stack/{NAME}/1"
CS_ID = "arn:aws:cloudformation:us-east-1:111111111111:changeSet/stagewise-1/1"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TEMPLATE = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}


@pytest.fixture
def stubbed():
    cfn = boto3.client("cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(cfn) as stub:
        yield CloudFormationProvider(cfn, polling=Polling(0, 0, 60, sleep=lambda seconds: None)), stub
        stub.assert_no_pending_responses()


def stack(status: str, outputs: dict[str, str] | None = None) -> dict:
    body = {"StackName": NAME, "StackId": STACK_ID, "CreationTime": NOW, "StackStatus": status}
    if outputs:
        body["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
    return {"Stacks": [body]}


def event(n: int, logical_id: str, status: str, reason: str = "") -> dict:
    body = {"StackId": STACK_ID, "EventId": f"e{n}", "StackName": NAME, "Timestamp": NOW,
            "LogicalResourceId": logical_id, "ResourceType": "AWS::Lambda::Function", "ResourceStatus": status}
    if reason:
        body["ResourceStatusReason"] = reason
    return body


def events(*items: dict) -> dict:
    return {"StackEvents": list(reversed(items))}  # CloudFormation answers newest first


def missing(stub: Stubber, method: str = "describe_stacks") -> None:
    stub.add_client_error(method, service_error_code="ValidationError",
                          service_message=f"Stack with id {NAME} does not exist")


def change_set(status: str, reason: str = "", changes: list | None = None) -> dict:
    body = {"ChangeSetId": CS_ID, "StackId": STACK_ID, "Status": status, "Changes": changes or []}
    if reason:
        body["StatusReason"] = reason
    return body


MODIFY_REPLACE = {"Type": "Resource", "ResourceChange": {
    "Action": "Modify", "LogicalResourceId": "Fn", "ResourceType": "AWS::Lambda::Function", "Replacement": "True",
    "Details": [{"Target": {"Attribute": "Properties", "Name": "FunctionName", "RequiresRecreation": "Always"}}]}}


def test_update_rollback_failed_refuses_to_plan_and_says_what_to_do(stubbed):
    provider, stub = stubbed
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_FAILED"))
    assert provider.health(NAME)[0] is StackHealth.STUCK
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_FAILED"))
    with pytest.raises(PlanError, match=f"continue-update-rollback --stack-name {NAME}"):
        provider.plan(NAME, TEMPLATE, {})


def test_an_update_whose_rollback_failed_says_how_to_continue(stubbed):
    provider, stub = stubbed
    stub.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    stub.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    stub.add_response("describe_change_set", change_set("CREATE_COMPLETE", changes=[MODIFY_REPLACE]))
    plan = provider.plan(NAME, TEMPLATE, {})
    stub.add_response("describe_stack_events", events())
    stub.add_response("execute_change_set", {}, {"ChangeSetName": CS_ID})
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_FAILED"))  # the status, then the events
    stub.add_response("describe_stack_events", events(event(1, "Fn", "UPDATE_FAILED", "denied")))
    result = provider.apply(plan, lambda e: None)
    assert not result.ok and "aws cloudformation continue-update-rollback" in result.reason
