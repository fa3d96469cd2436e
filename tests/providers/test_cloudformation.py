"""The provider through the local cloud's CloudFormation API (a real server on loopback): plans,
applies, failures, leftovers, outputs-only changes, protection and tags — CloudFormation's
documented behaviour, with no stub in between."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from stagewise.cloud import LocalCloud, client
from stagewise.providers.base import Action, PlanError, StackHealth
from stagewise.providers.cloudformation import LOCAL, CloudFormationProvider, Polling, StackOptions
from tests.helpers import free_port

ACCOUNT = "111111111111"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    local = LocalCloud(tmp_path_factory.mktemp("cfn") / "cloud", free_port())
    local.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def cfn(cloud: LocalCloud):
    return client(cloud.endpoint, account_id=ACCOUNT, region=REGION, service="cloudformation")


@pytest.fixture
def provider(cfn) -> CloudFormationProvider:
    return CloudFormationProvider(cfn, polling=LOCAL)


@pytest.fixture
def name(request: pytest.FixtureRequest) -> str:
    """A stack name of this test's own (the cloud is shared by the module)."""
    return "t-" + request.node.name.replace("_", "-")[5:60].strip("-")


def param(value: str, *, name: str, extra_output: bool = False) -> dict:
    template = {"Resources": {"Param": {"Type": "AWS::SSM::Parameter",
                                        "Properties": {"Name": name, "Type": "String", "Value": value}}},
                "Outputs": {"Name": {"Value": {"Ref": "Param"}, "Export": {"Name": f"{name}-Name"}}}}
    if extra_output:
        template["Outputs"]["Value"] = {"Value": value, "Export": {"Name": f"{name}-Value"}}
    return template


def failing(template: dict) -> dict:
    """The template plus a queue SQS refuses to create (its name has a space), made after Param."""
    resources = {**template["Resources"], "Queue": {"Type": "AWS::SQS::Queue", "DependsOn": "Param",
                                                   "Properties": {"QueueName": "bad name"}}}
    return {**template, "Resources": resources}


def importer(export: str) -> dict:
    return {"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Type": "String", "Value": {"Fn::ImportValue": export}}}}}


def leftovers(cfn, name: str) -> list[str]:
    """What a stack left in the account: its status (if it exists) and its change sets."""
    found = [s["StackStatus"] for s in cfn.describe_stacks()["Stacks"] if s["StackName"] == name]
    if found:
        found += [c["ChangeSetName"] for c in cfn.list_change_sets(StackName=name)["Summaries"]]
    return found


def test_plan_apply_update_replace_and_delete(provider, cfn, name):
    plan = provider.plan(name, param("one", name=name), {})
    assert plan.creating and [(c.action, c.logical_id) for c in plan.changes] == [(Action.ADD, "Param")]
    events = []
    result = provider.apply(plan, events.append)
    assert result.ok and result.status == "CREATE_COMPLETE" and result.outputs == {"Name": name}
    assert ("Param", "CREATE_COMPLETE") in {(e.logical_id, e.status) for e in events}
    assert provider.health(name) == (StackHealth.READY, "CREATE_COMPLETE")
    assert provider.physical_ids(name) == {"Param": name}

    modify = provider.plan(name, param("two", name=name), {})
    assert [(c.action, c.logical_id) for c in modify.changes] == [(Action.MODIFY, "Param")]
    assert provider.apply(modify, events.append).status == "UPDATE_COMPLETE"
    replace = provider.plan(name, param("two", name=f"{name}-b"), {})
    assert [(c.action, c.replaced_by) for c in replace.changes] == [(Action.REPLACE, "Name")]
    provider.discard(replace)

    assert provider.delete(name, events.append).ok
    assert provider.health(name) == (StackHealth.ABSENT, "")


def test_the_last_events_of_a_stack_that_finishes_between_two_reads_are_reported(cloud, name):
    """The stack may reach its final status between the provider's read of its events and of its status;
    its last events (the resources' CREATE_COMPLETE) must still be reported. Each events read here is
    held until the stack is no longer in progress: the widest form of that race."""
    cfn = client(cloud.endpoint, account_id=ACCOUNT, region=REGION, service="cloudformation")
    watcher = client(cloud.endpoint, account_id=ACCOUNT, region=REGION, service="cloudformation")

    def hold_until_final(**_) -> None:
        for _ in range(200):
            stacks = watcher.describe_stacks()["Stacks"]
            if any(s["StackName"] == name and not s["StackStatus"].endswith("IN_PROGRESS") for s in stacks):
                return
            time.sleep(0.02)

    provider = CloudFormationProvider(cfn, polling=LOCAL)
    plan = provider.plan(name, param("one", name=name), {})
    cfn.meta.events.register("after-call.cloudformation.DescribeStackEvents", hold_until_final)
    events = []
    assert provider.apply(plan, events.append).status == "CREATE_COMPLETE"
    assert ("Param", "CREATE_COMPLETE") in {(e.logical_id, e.status) for e in events}
    assert (name, "CREATE_COMPLETE") in {(e.logical_id, e.status) for e in events}
    provider.delete(name, lambda e: None)


def test_a_change_set_without_changes_is_an_empty_plan_and_leaves_nothing(provider, cfn, name):
    provider.apply(provider.plan(name, param("one", name=name), {}), lambda e: None)
    plan = provider.plan(name, param("one", name=name), {})
    assert plan.empty and provider.apply(plan, lambda e: None).status == "NO_CHANGES"
    assert leftovers(cfn, name) == ["CREATE_COMPLETE"]  # the FAILED "no changes" change set is gone


def test_an_outputs_only_change_is_executed_and_its_export_can_be_imported(provider, cfn, name):
    provider.apply(provider.plan(name, param("one", name=name), {}), lambda e: None)
    plan = provider.plan(name, param("one", name=name, extra_output=True), {})
    assert not plan.empty  # CloudFormation: CREATE_COMPLETE with no resource changes, still to execute
    assert provider.apply(plan, lambda e: None).ok
    exports = {e["Name"]: e["Value"] for e in cfn.list_exports()["Exports"]}
    assert exports[f"{name}-Value"] == "one"
    assert provider.apply(provider.plan(f"{name}-user", importer(f"{name}-Value"), {}), lambda e: None).ok
    assert cfn.list_imports(ExportName=f"{name}-Value")["Imports"] == [f"{name}-user"]


def test_a_failed_create_rolls_back_and_is_created_again_on_the_next_deploy(provider, cfn, name):
    failed = provider.apply(provider.plan(name, failing(param("x", name=name)), {}), lambda e: None)
    assert not failed.ok and failed.status == "ROLLBACK_COMPLETE" and failed.reason.startswith("Queue: ")
    assert provider.physical_ids(name) == {}  # Param, created before the failure, was rolled back
    assert provider.health(name)[0] is StackHealth.FAILED_CREATE
    again = provider.plan(name, param("x", name=name), {})
    assert again.recreate and again.creating
    result = provider.apply(again, lambda e: None)
    assert result.ok and result.status == "CREATE_COMPLETE"


def test_a_failed_update_rolls_back_and_names_the_resource(provider, cfn, name):
    provider.apply(provider.plan(name, param("one", name=name), {}), lambda e: None)
    result = provider.apply(provider.plan(name, failing(param("two", name=name)), {}), lambda e: None)
    assert not result.ok and result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert result.reason.startswith("Queue: ") and "alphanumeric" in result.reason
    ssm = client(cfn.meta.endpoint_url, account_id=ACCOUNT, region=REGION, service="ssm")
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "one"  # the update of Param was undone
    assert provider.health(name) == (StackHealth.READY, "UPDATE_ROLLBACK_COMPLETE")


def test_a_missing_import_is_a_blocked_plan_that_leaves_no_stack_behind(provider, cfn, name):
    with pytest.raises(PlanError, match="No export named") as caught:
        provider.plan(name, importer(f"{name}-Nope"), {})
    assert caught.value.blocked
    assert leftovers(cfn, name) == []  # no REVIEW_IN_PROGRESS stack, no failed change set


def test_an_unsupported_resource_type_is_a_plan_error_naming_the_stack(provider, cfn, name):
    bad = {"Resources": {"Net": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}}
    with pytest.raises(PlanError, match=f"stack {name}.*AWS::EC2::VPC") as caught:
        provider.plan(name, bad, {})
    assert not caught.value.blocked and leftovers(cfn, name) == []


def test_a_diff_only_plan_is_discarded_without_a_trace(provider, cfn, name):
    plan = provider.plan(name, param("one", name=name), {})
    assert leftovers(cfn, name)[0] == "REVIEW_IN_PROGRESS"
    provider.discard(plan)
    assert provider.health(name)[0] is StackHealth.ABSENT and leftovers(cfn, name) == []


def test_an_api_error_while_applying_is_a_failed_result_not_an_exception(provider, cfn, name):
    provider.apply(provider.plan(name, param("one", name=name), {}), lambda e: None)
    plan = provider.plan(name, param("two", name=name), {})
    cfn.delete_change_set(ChangeSetName=plan.handle["id"])  # e.g. another run deleted it meanwhile
    result = provider.apply(plan, lambda e: None)
    assert not result.ok and "does not exist" in result.reason


def test_a_protected_stack_is_tagged_guarded_and_keeps_its_retained_data(provider, cfn, name):
    template = param("one", name=name)
    template["Resources"]["Param"]["DeletionPolicy"] = "RetainExceptOnCreate"
    options = StackOptions(tags={"app": "notes", "stage": "prod", "service": "infra", "build": "b1"}, protect=True)
    assert provider.apply(provider.plan(name, template, {}, options), lambda e: None).ok
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    assert stack["EnableTerminationProtection"] is True
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == dict(options.tags)
    policy = json.loads(cfn.get_stack_policy(StackName=name)["StackPolicyBody"])
    assert {"Effect": "Deny", "Principal": "*", "Action": ["Update:Replace", "Update:Delete"],
            "Resource": ["LogicalResourceId/Param"]} in policy["Statement"]

    renamed = param("one", name=f"{name}-b")
    renamed["Resources"]["Param"]["DeletionPolicy"] = "RetainExceptOnCreate"
    refused = provider.apply(provider.plan(name, renamed, {}, options), lambda e: None)
    assert not refused.ok and refused.status == "UPDATE_ROLLBACK_COMPLETE"
    assert "Action denied by stack policy" in refused.reason
    assert provider.physical_ids(name) == {"Param": name}  # untouched

    deleted = provider.delete(name, lambda e: None)
    assert not deleted.ok and "TerminationProtection" in deleted.reason


def test_a_template_over_the_inline_limit_goes_by_url_through_the_local_s3(cloud, cfn, name):
    s3 = client(cloud.endpoint, account_id=ACCOUNT, region=REGION, service="s3")
    s3.create_bucket(Bucket="big-templates")

    def upload(stack: str, body: bytes) -> str:
        s3.put_object(Bucket="big-templates", Key=f"{stack}.json", Body=body)
        return f"https://big-templates.s3.{REGION}.amazonaws.com/{stack}.json"

    big = param("x", name=name)
    big["Metadata"] = {"padding": "p" * 60_000}
    provider = CloudFormationProvider(cfn, polling=LOCAL, upload=upload)
    result = provider.apply(provider.plan(name, big, {}), lambda e: None)
    assert result.ok and provider.live_template(name) == (big, {})


def test_polling_backs_off_and_stops_at_its_deadline():
    waits = list(Polling(first=0.01, longest=0.04, deadline=0.2, sleep=lambda s: None).intervals())
    assert waits[:4] == [0.01, 0.015, 0.0225, 0.03375] and max(waits) == 0.04


def test_a_wait_past_its_deadline_is_a_timed_out_result(cfn, name):
    plan = CloudFormationProvider(cfn, polling=LOCAL).plan(name, param("one", name=name), {})
    slow = CloudFormationProvider(cfn, polling=Polling(first=0.001, longest=0.001, deadline=0.0))
    result = slow.apply(plan, lambda e: None)
    assert not result.ok and result.status == "TIMED_OUT" and "deploy again" in result.reason
