"""The aws provider against moto's CloudFormation API (in process): the change-set call flow."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from stagewise.providers.aws import AwsProvider
from stagewise.providers.base import Action, StackHealth


def template(value: str, *, extra: bool = False) -> dict:
    resources = {
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "dev-a-topic"}},
        "Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "dev-a-param", "Type": "String", "Value": value}},
    }
    if extra:
        resources["Queue"] = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "dev-a-queue"}}
    return {"Resources": resources,
            "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}, "Export": {"Name": "dev-a-infra-TopicArn"}}}}


@pytest.fixture
def provider():
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name="us-east-1")
        yield AwsProvider(cfn, poll=0, sleep=lambda seconds: None)


def test_create_plan_apply_events_outputs_and_delete(provider):
    assert provider.health("dev-a-infra") == (StackHealth.ABSENT, "")
    plan = provider.plan("dev-a-infra", template("one"), {})
    assert plan.creating and {(c.action, c.logical_id) for c in plan.changes} == {
        (Action.ADD, "Topic"), (Action.ADD, "Param")}
    events = []
    result = provider.apply(plan, events.append)
    assert result.ok and result.status == "CREATE_COMPLETE"
    # (moto leaves Outputs empty after a change set; test_aws_stubbed covers reading them)
    assert ("dev-a-infra", "CREATE_COMPLETE") in {(e.logical_id, e.status) for e in events}
    assert provider.health("dev-a-infra")[0] is StackHealth.READY
    assert set(provider.physical_ids("dev-a-infra")) == {"Topic", "Param"}

    deleted = provider.delete("dev-a-infra", events.append)
    assert deleted.ok and provider.health("dev-a-infra")[0] is StackHealth.ABSENT


def test_an_update_plan_lists_added_and_modified_resources(provider):
    provider.apply(provider.plan("dev-a-infra", template("one"), {}), lambda e: None)
    plan = provider.plan("dev-a-infra", template("two", extra=True), {})
    assert not plan.creating
    actions = {c.logical_id: c.action for c in plan.changes}
    assert actions["Queue"] is Action.ADD
    assert actions["Param"] in (Action.MODIFY, Action.REPLACE)
    result = provider.apply(plan, lambda e: None)
    assert result.ok and result.status == "UPDATE_COMPLETE"


def test_a_change_set_without_changes_is_an_empty_plan_and_skipped(provider):
    provider.apply(provider.plan("dev-a-infra", template("one"), {}), lambda e: None)
    plan = provider.plan("dev-a-infra", template("one"), {})
    assert plan.empty
    assert provider.apply(plan, lambda e: None).status == "NO_CHANGES"


def test_a_diff_only_plan_is_discarded(provider):
    plan = provider.plan("dev-a-infra", template("one"), {})
    provider.discard(plan)
    assert provider.health("dev-a-infra")[0] is StackHealth.ABSENT
