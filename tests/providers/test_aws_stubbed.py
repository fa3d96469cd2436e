"""The aws provider on CloudFormation states moto cannot produce, fed one response at a time
through botocore's Stubber: ROLLBACK_COMPLETE, UPDATE_ROLLBACK_FAILED, no-change change sets,
a failed update, and outputs."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from stagewise.providers.aws import AwsProvider
from stagewise.providers.base import Action, PlanError, StackHealth

NAME = "dev-a-api"
STACK_ID = f"arn:aws:cloudformation:us-east-1:111111111111:stack/{NAME}/1"
CS_ID = "arn:aws:cloudformation:us-east-1:111111111111:changeSet/stagewise-1/1"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
TEMPLATE = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}


@pytest.fixture
def stubbed():
    cfn = boto3.client("cloudformation", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(cfn) as stub:
        yield AwsProvider(cfn, poll=0, sleep=lambda seconds: None), stub
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


def test_a_no_change_change_set_is_an_empty_plan_not_a_failure(stubbed):
    provider, stub = stubbed
    stub.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    stub.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    stub.add_response("describe_change_set", change_set(
        "FAILED", "The submitted information didn't contain changes. Submit different information to create a "
        "change set."))
    stub.add_response("delete_change_set", {}, {"ChangeSetName": CS_ID})
    plan = provider.plan(NAME, TEMPLATE, {})
    assert plan.empty
    assert provider.apply(plan, lambda e: None).status == "NO_CHANGES"  # and no execute call


def test_a_replacement_names_the_property_that_forces_it(stubbed):
    provider, stub = stubbed
    stub.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    stub.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID},
                      {"StackName": NAME, "TemplateBody": ANY, "Parameters": [], "Capabilities": ANY,
                       "ChangeSetName": ANY, "ChangeSetType": "UPDATE"})
    stub.add_response("describe_change_set", change_set("CREATE_PENDING"))
    stub.add_response("describe_change_set", change_set("CREATE_COMPLETE", changes=[MODIFY_REPLACE]))
    plan = provider.plan(NAME, TEMPLATE, {})
    assert [(c.action, c.logical_id, c.replaced_by) for c in plan.changes] == [
        (Action.REPLACE, "Fn", "FunctionName")]


def test_a_stack_left_in_rollback_complete_is_deleted_and_created_again(stubbed):
    provider, stub = stubbed
    stub.add_response("describe_stacks", stack("ROLLBACK_COMPLETE"))
    plan = provider.plan(NAME, TEMPLATE, {})
    assert plan.recreate and [(c.action, c.logical_id) for c in plan.changes] == [(Action.ADD, "Fn")]
    # delete the failed stack
    stub.add_response("describe_stacks", stack("ROLLBACK_COMPLETE"))
    stub.add_response("describe_stack_events", events(event(1, "Fn", "CREATE_FAILED", "boom")))
    stub.add_response("delete_stack", {}, {"StackName": NAME})
    stub.add_response("describe_stack_events", events(event(1, "Fn", "CREATE_FAILED", "boom"),
                                                      event(2, NAME, "DELETE_COMPLETE")))
    missing(stub)
    # create it again through a CREATE change set
    stub.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID},
                      {"StackName": NAME, "TemplateBody": ANY, "Parameters": [], "Capabilities": ANY,
                       "ChangeSetName": ANY, "ChangeSetType": "CREATE"})
    stub.add_response("describe_change_set", change_set("CREATE_COMPLETE", changes=[
        {"Type": "Resource", "ResourceChange": {"Action": "Add", "LogicalResourceId": "Fn",
                                                "ResourceType": "AWS::Lambda::Function"}}]))
    stub.add_response("describe_stack_events", events())
    stub.add_response("execute_change_set", {}, {"ChangeSetName": CS_ID})
    stub.add_response("describe_stack_events", events(event(3, "Fn", "CREATE_IN_PROGRESS"),
                                                      event(4, "Fn", "CREATE_COMPLETE")))
    stub.add_response("describe_stacks", stack("CREATE_COMPLETE", {"FnArn": "arn:fn"}))
    seen = []
    result = provider.apply(plan, seen.append)
    assert result.ok and result.outputs == {"FnArn": "arn:fn"}
    assert [(e.logical_id, e.status) for e in seen] == [
        (NAME, "DELETE_COMPLETE"), ("Fn", "CREATE_IN_PROGRESS"), ("Fn", "CREATE_COMPLETE")]


def test_update_rollback_failed_refuses_to_plan_and_says_what_to_do(stubbed):
    provider, stub = stubbed
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_FAILED"))
    assert provider.health(NAME)[0] is StackHealth.STUCK
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_FAILED"))
    with pytest.raises(PlanError, match=f"continue-update-rollback --stack-name {NAME}"):
        provider.plan(NAME, TEMPLATE, {})


def test_a_failed_update_rolls_back_and_names_the_resource(stubbed):
    provider, stub = stubbed
    stub.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    stub.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    stub.add_response("describe_change_set", change_set("CREATE_COMPLETE", changes=[MODIFY_REPLACE]))
    plan = provider.plan(NAME, TEMPLATE, {})
    stub.add_response("describe_stack_events", events(event(1, NAME, "UPDATE_COMPLETE")))
    stub.add_response("execute_change_set", {}, {"ChangeSetName": CS_ID})
    stub.add_response("describe_stack_events", events(event(1, NAME, "UPDATE_COMPLETE"),
                                                      event(2, "Fn", "UPDATE_IN_PROGRESS")))
    stub.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"))
    stub.add_response("describe_stack_events", events(
        event(1, NAME, "UPDATE_COMPLETE"), event(2, "Fn", "UPDATE_IN_PROGRESS"),
        event(3, "Fn", "UPDATE_FAILED", "Code storage limit exceeded"), event(4, NAME, "UPDATE_ROLLBACK_COMPLETE")))
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"))
    result = provider.apply(plan, lambda e: None)
    assert not result.ok and result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert result.reason == "Fn: Code storage limit exceeded"


def test_an_update_whose_rollback_failed_says_how_to_continue(stubbed):
    provider, stub = stubbed
    stub.add_response("describe_stacks", stack("UPDATE_COMPLETE"))
    stub.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID})
    stub.add_response("describe_change_set", change_set("CREATE_COMPLETE", changes=[MODIFY_REPLACE]))
    plan = provider.plan(NAME, TEMPLATE, {})
    stub.add_response("describe_stack_events", events())
    stub.add_response("execute_change_set", {}, {"ChangeSetName": CS_ID})
    stub.add_response("describe_stack_events", events(event(1, "Fn", "UPDATE_FAILED", "denied")))
    stub.add_response("describe_stacks", stack("UPDATE_ROLLBACK_FAILED"))
    result = provider.apply(plan, lambda e: None)
    assert not result.ok and "aws cloudformation continue-update-rollback" in result.reason


def test_a_missing_import_is_a_blocked_plan(stubbed):
    provider, stub = stubbed
    missing(stub)
    stub.add_client_error("create_change_set", service_error_code="ValidationError",
                          service_message="No export named dev-a-infra-Extra found")
    with pytest.raises(PlanError) as caught:
        provider.plan(NAME, TEMPLATE, {})
    assert caught.value.blocked and NAME in str(caught.value)


def test_a_template_over_the_inline_limit_goes_by_url(stubbed):
    provider, stub = stubbed
    uploaded = {}

    def upload(stack_name: str, body: bytes) -> str:
        uploaded[stack_name] = body
        return "https://bucket.s3.us-east-1.amazonaws.com/templates/x.json"

    provider.upload = upload
    big = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Description": "x" * 60_000}}}}
    missing(stub)
    stub.add_response("create_change_set", {"Id": CS_ID, "StackId": STACK_ID},
                      {"StackName": NAME, "TemplateURL": "https://bucket.s3.us-east-1.amazonaws.com/templates/x.json",
                       "Parameters": [], "Capabilities": ANY, "ChangeSetName": ANY, "ChangeSetType": "CREATE"})
    stub.add_response("describe_change_set", change_set("CREATE_COMPLETE"))
    provider.plan(NAME, big, {})
    assert len(uploaded[NAME]) > 60_000
