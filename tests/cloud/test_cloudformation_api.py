"""The local CloudFormation API with a plain boto3 client: the statuses, errors and shapes AWS
documents, bad input answered as CloudFormation answers it (never a 500 or a hang), and
accounts kept apart."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stagewise.cloud import LocalCloud
from tests.cloud.conftest import ACCOUNT_B, make_client


def queue(name: str, *, export: str | None = None) -> dict[str, Any]:
    template: dict[str, Any] = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name}}}}
    if export:
        template["Outputs"] = {"Url": {"Value": {"Ref": "Q"}, "Export": {"Name": export}}}
    return template


def error_of(call: Any, **kwargs: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def create(cfn: Any, name: str, template: dict[str, Any], **extra: Any) -> None:
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), **extra)
    cfn.get_waiter("stack_create_complete").wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 30})


def test_bad_templates_and_calls_are_answered_like_cloudformation(cloud: LocalCloud) -> None:
    cfn = make_client(cloud, "cloudformation")
    code, message, status = error_of(cfn.create_change_set, StackName="s", ChangeSetName="c",
                                     ChangeSetType="CREATE", TemplateBody="{not json")
    assert (code, status) == ("ValidationError", 400) and "Template format error" in message
    code, message, _ = error_of(cfn.create_change_set, StackName="s", ChangeSetName="c", ChangeSetType="CREATE",
                                TemplateBody=json.dumps({"Resources": {"V": {"Type": "AWS::EC2::VPC"}}}))
    assert code == "ValidationError" and "AWS::EC2::VPC" in message
    needs_value = {**queue("q"), "Parameters": {"Size": {"Type": "String"}}}
    code, message, _ = error_of(cfn.create_change_set, StackName="s", ChangeSetName="c", ChangeSetType="CREATE",
                                TemplateBody=json.dumps(needs_value))
    assert code == "ValidationError" and "Parameters: [Size] must have values" in message
    role = {"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": "r", "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}}}}
    code, message, _ = error_of(cfn.create_change_set, StackName="s", ChangeSetName="c", ChangeSetType="CREATE",
                                TemplateBody=json.dumps(role), Capabilities=["CAPABILITY_IAM"])
    assert (code, message) == ("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_NAMED_IAM]")
    code, message, _ = error_of(cfn.create_change_set, StackName="absent", ChangeSetName="c",
                                TemplateBody=json.dumps(queue("q")))
    assert (code, message) == ("ValidationError", "Stack [absent] does not exist")
    code, message, _ = error_of(cfn.describe_stacks, StackName="absent")
    assert message == "Stack with id absent does not exist"
    code, _, status = error_of(cfn.describe_change_set, ChangeSetName="nope", StackName="absent")
    assert (code, status) == ("ChangeSetNotFound", 404)
    assert cfn.describe_stacks()["Stacks"] == []  # nothing was left behind by any of these


def test_a_failed_change_set_cannot_run_and_a_busy_stack_refuses_a_second_operation(cloud: LocalCloud) -> None:
    cfn = make_client(cloud, "cloudformation")
    create(cfn, "same", queue("same"))
    made = cfn.create_change_set(StackName="same", ChangeSetName="again", TemplateBody=json.dumps(queue("same")))
    described = cfn.describe_change_set(ChangeSetName=made["Id"])
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert "didn't contain changes" in described["StatusReason"]
    code, _, _ = error_of(cfn.execute_change_set, ChangeSetName=made["Id"])
    assert code == "InvalidChangeSetStatus"
    with pytest.raises(ClientError, match="No updates are to be performed"):
        cfn.update_stack(StackName="same", TemplateBody=json.dumps(queue("same")))


def test_an_export_in_use_stops_its_stack_from_being_deleted(cloud: LocalCloud) -> None:
    cfn = make_client(cloud, "cloudformation")
    create(cfn, "owner", queue("owner", export="owner-url"))
    user = {"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Type": "String", "Value": {"Fn::ImportValue": "owner-url"}}}}}
    create(cfn, "user", user)
    assert cfn.list_imports(ExportName="owner-url")["Imports"] == ["user"]
    cfn.delete_stack(StackName="owner")
    deadline = time.monotonic() + 30
    while cfn.describe_stacks(StackName="owner")["Stacks"][0]["StackStatus"].endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    stack = cfn.describe_stacks(StackName="owner")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert "Export owner-url cannot be deleted as it is in use by user" in stack["StackStatusReason"]
    code, message, _ = error_of(cfn.list_imports, ExportName="nobody-exports-this")
    assert message == "Export 'nobody-exports-this' is not imported by any stack."


def test_a_large_change_set_is_paginated_and_every_event_is_listed(cloud: LocalCloud) -> None:
    cfn = make_client(cloud, "cloudformation")
    many = {"Resources": {f"P{i}": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Name": f"/many/p{i}", "Type": "String", "Value": "v"}} for i in range(130)}}
    made = cfn.create_change_set(StackName="many", ChangeSetName="c", ChangeSetType="CREATE",
                                 TemplateBody=json.dumps(many))
    first = cfn.describe_change_set(ChangeSetName=made["Id"])
    assert len(first["Changes"]) == 100 and first["NextToken"]
    rest = cfn.describe_change_set(ChangeSetName=made["Id"], NextToken=first["NextToken"])
    assert len(rest["Changes"]) == 30 and "NextToken" not in rest
    cfn.execute_change_set(ChangeSetName=made["Id"])
    cfn.get_waiter("stack_create_complete").wait(StackName="many", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    pages = cfn.get_paginator("describe_stack_events").paginate(StackName="many")
    events = [e for page in pages for e in page["StackEvents"]]
    assert sum(1 for e in events if e["ResourceStatus"] == "CREATE_COMPLETE") == 131  # 130 resources + the stack
    summary = cfn.get_paginator("list_stack_resources").paginate(StackName="many").build_full_result()
    assert len(summary["StackResourceSummaries"]) == 130
    detail = cfn.describe_stack_resource(StackName="many", LogicalResourceId="P7")["StackResourceDetail"]
    assert (detail["PhysicalResourceId"], detail["ResourceStatus"]) == ("/many/p7", "CREATE_COMPLETE")


def test_validate_template_names_parameters_and_capabilities(cloud: LocalCloud) -> None:
    cfn = make_client(cloud, "cloudformation")
    template = {"Description": "d", "Parameters": {"Size": {"Type": "String", "Default": "1"}},
                "Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}}}}
    answer = cfn.validate_template(TemplateBody=json.dumps(template))
    assert answer["Description"] == "d" and answer["Capabilities"] == ["CAPABILITY_IAM"]
    assert answer["Parameters"] == [{"ParameterKey": "Size", "DefaultValue": "1", "NoEcho": False}]


def test_each_account_sees_only_its_own_stacks_and_exports(cloud: LocalCloud) -> None:
    mine, theirs = make_client(cloud, "cloudformation"), make_client(cloud, "cloudformation", ACCOUNT_B)
    create(mine, "shared-name", queue("a-queue", export="shared-export"))
    assert theirs.describe_stacks()["Stacks"] == []
    assert theirs.list_exports()["Exports"] == [] and theirs.list_stacks()["StackSummaries"] == []
    listed = mine.list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]
    assert [(s["StackName"], s["StackStatus"]) for s in listed] == [("shared-name", "CREATE_COMPLETE")]
    assert mine.list_stacks(StackStatusFilter=["UPDATE_COMPLETE"])["StackSummaries"] == []
    create(theirs, "shared-name", queue("a-queue", export="shared-export"))  # same names, another account
    assert mine.describe_stacks()["Stacks"][0]["StackId"] != theirs.describe_stacks()["Stacks"][0]["StackId"]


def test_a_stack_an_older_cloud_deployed_without_this_api_can_be_updated(cloud: LocalCloud) -> None:
    from stagewise.cloud import client as cloud_client
    from stagewise.provisioner import Provisioner

    def clients(service: str) -> Any:
        return cloud_client(cloud.endpoint, account_id="111111111111", region="us-east-1", service=service)

    Provisioner(clients, account_id="111111111111", region="us-east-1").deploy("older", queue("older-q"))
    cfn = make_client(cloud, "cloudformation")
    assert cfn.describe_stacks(StackName="older")["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    made = cfn.create_change_set(StackName="older", ChangeSetName="c", TemplateBody=json.dumps(
        queue("older-q", export="older-url")))
    assert cfn.describe_change_set(ChangeSetName=made["Id"])["Status"] == "CREATE_COMPLETE"
    cfn.execute_change_set(ChangeSetName=made["Id"])
    cfn.get_waiter("stack_update_complete").wait(StackName="older", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    assert [e["Name"] for e in cfn.list_exports()["Exports"]] == ["older-url"]
