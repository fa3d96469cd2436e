"""The local provider over the provisioner (moto in process): the same Plan shape as the aws one."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from stagewise.providers.base import Action, PlanError, StackHealth
from stagewise.providers.local import LocalProvider

NAME = "dev-a-infra"


def template(value: str, *, name: str = "dev-a-param") -> dict:
    return {"Resources": {"Param": {"Type": "AWS::SSM::Parameter",
                                    "Properties": {"Name": name, "Type": "String", "Value": value}}},
            "Outputs": {"Name": {"Value": {"Ref": "Param"}, "Export": {"Name": "dev-a-infra-Name"}}}}


@pytest.fixture
def provider():
    with mock_aws():
        session = boto3.Session(region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
        yield LocalProvider(session.client, account_id="123456789012", region="us-east-1")


def test_plan_apply_update_and_delete(provider):
    plan = provider.plan(NAME, template("one"), {})
    assert plan.creating and [(c.action, c.logical_id) for c in plan.changes] == [(Action.ADD, "Param")]
    events = []
    result = provider.apply(plan, events.append)
    assert result.ok and result.outputs == {"Name": "dev-a-param"}
    assert ("Param", "CREATE_COMPLETE") in {(e.logical_id, e.status) for e in events}
    assert provider.health(NAME)[0] is StackHealth.READY

    assert provider.plan(NAME, template("one"), {}).empty
    replace = provider.plan(NAME, template("one", name="dev-a-other"), {})
    assert [(c.action, c.replaced_by) for c in replace.changes] == [(Action.REPLACE, "Name")]

    assert provider.delete(NAME, events.append).ok
    assert provider.health(NAME) == (StackHealth.ABSENT, "")


def test_a_failure_while_applying_is_a_result_not_an_exception(provider):
    result = provider.apply(provider.plan(NAME, template("one", name="ssm-refused"), {}), lambda e: None)
    assert not result.ok and "ssm" in result.reason and result.status == "ROLLBACK_COMPLETE"


def test_an_unknown_resource_type_is_a_plan_error_naming_the_stack(provider):
    bad = {"Resources": {"Net": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}}}
    with pytest.raises(PlanError, match=f"stack {NAME}.*AWS::EC2::VPC") as caught:
        provider.plan(NAME, bad, {})
    assert not caught.value.blocked


def test_a_missing_import_is_a_blocked_plan(provider):
    importer = {"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {
        "Type": "String", "Value": {"Fn::ImportValue": "dev-a-infra-Nope"}}}}}
    with pytest.raises(PlanError) as caught:
        provider.plan("dev-a-api", importer, {})
    assert caught.value.blocked
