"""Update in place, replace, remove, Retain, rollback and the plan, per resource type against moto."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stagewise.provisioner import Action, DeployError, Provisioner, StackStatus, TemplateError
from tests.provisioner.conftest import CallLog

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def _stack(**resources: Any) -> dict[str, Any]:
    return {"Resources": resources}


def _with(template: dict[str, Any], logical_id: str, **props: Any) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    changed["Resources"][logical_id]["Properties"].update(props)
    return changed


# -- per type: (template, modify props, check modified, replace props, exists(physical_id)) ----------------


def _queue_exists(cloud: Any, pid: str) -> bool:
    return any(pid == u for u in cloud.client("sqs").list_queues().get("QueueUrls", []))


def _queue_visibility(cloud: Any, pid: str) -> str:
    return cloud.client("sqs").get_queue_attributes(QueueUrl=pid, AttributeNames=["All"])["Attributes"][
        "VisibilityTimeout"
    ]


CASES = {
    "table": (
        {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "BillingMode": "PAY_PER_REQUEST",
            },
        },
        {"StreamSpecification": {"StreamViewType": "NEW_IMAGE", "StreamEnabled": True}},
        lambda cloud, pid: cloud.client("dynamodb").describe_table(TableName=pid)["Table"][
            "StreamSpecification"
        ]["StreamEnabled"],
        {"TableName": "renamed-table"},
        lambda cloud, pid: pid in cloud.client("dynamodb").list_tables()["TableNames"],
    ),
    "bucket": (
        {"Type": "AWS::S3::Bucket", "Properties": {}},
        {"VersioningConfiguration": {"Status": "Enabled"}},
        lambda cloud, pid: cloud.client("s3").get_bucket_versioning(Bucket=pid)["Status"] == "Enabled",
        {"BucketName": "renamed-bucket"},
        lambda cloud, pid: pid in [b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"]],
    ),
    "queue": (
        {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
        {"VisibilityTimeout": 90},
        lambda cloud, pid: _queue_visibility(cloud, pid) == "90",
        {"QueueName": "renamed-queue"},
        _queue_exists,
    ),
    "topic": (
        {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "one"}},
        {"DisplayName": "two"},
        lambda cloud, pid: (
            cloud.client("sns").get_topic_attributes(TopicArn=pid)["Attributes"]["DisplayName"] == "two"
        ),
        {"TopicName": "renamed-topic"},
        lambda cloud, pid: pid in [t["TopicArn"] for t in cloud.client("sns").list_topics()["Topics"]],
    ),
    "parameter": (
        {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "one"}},
        {"Value": "two"},
        lambda cloud, pid: cloud.client("ssm").get_parameter(Name=pid)["Parameter"]["Value"] == "two",
        {"Name": "/renamed/param"},
        lambda cloud, pid: bool(cloud.client("ssm").get_parameters(Names=[pid])["Parameters"]),
    ),
    "log group": (
        {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 7}},
        {"RetentionInDays": 14},
        lambda cloud, pid: (
            cloud.client("logs").describe_log_groups(logGroupNamePrefix=pid)["logGroups"][0][
                "retentionInDays"
            ]
            == 14
        ),
        {"LogGroupName": "/renamed/logs"},
        lambda cloud, pid: bool(
            cloud.client("logs").describe_log_groups(logGroupNamePrefix=pid)["logGroups"]
        ),
    ),
    "role": (
        {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
        {
            "Policies": [
                {
                    "PolicyName": "p",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
                    },
                }
            ]
        },
        lambda cloud, pid: cloud.client("iam").list_role_policies(RoleName=pid)["PolicyNames"] == ["p"],
        {"RoleName": "renamed-role"},
        lambda cloud, pid: pid in [r["RoleName"] for r in cloud.client("iam").list_roles()["Roles"]],
    ),
    "user pool": (
        {"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolName": "pool"}},
        {"AutoVerifiedAttributes": ["email"]},
        lambda cloud, pid: (
            cloud.client("cognito-idp").describe_user_pool(UserPoolId=pid)["UserPool"][
                "AutoVerifiedAttributes"
            ]
            == ["email"]
        ),
        {"UsernameAttributes": ["email"]},
        lambda cloud, pid: (
            pid in [p["Id"] for p in cloud.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]]
        ),
    ),
    "identity pool": (
        {"Type": "AWS::Cognito::IdentityPool", "Properties": {"AllowUnauthenticatedIdentities": False}},
        {"AllowUnauthenticatedIdentities": True},
        lambda cloud, pid: cloud.client("cognito-identity").describe_identity_pool(IdentityPoolId=pid)[
            "AllowUnauthenticatedIdentities"
        ],
        None,
        lambda cloud, pid: (
            pid
            in [
                p["IdentityPoolId"]
                for p in cloud.client("cognito-identity").list_identity_pools(MaxResults=60)["IdentityPools"]
            ]
        ),
    ),
    "rest api": (
        {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "one"}},
        {"Name": "two"},
        lambda cloud, pid: cloud.client("apigateway").get_rest_api(restApiId=pid)["name"] == "two",
        {"EndpointConfiguration": {"Types": ["REGIONAL"]}},
        lambda cloud, pid: pid in [a["id"] for a in cloud.client("apigateway").get_rest_apis()["items"]],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_create_update_replace_delete(prov: Provisioner, cloud: Any, case: str) -> None:
    resource, modify, modified, replace, exists = CASES[case]
    template = _stack(R=copy.deepcopy(resource))
    first = prov.deploy("s1", template).resources["R"].physical_id
    assert exists(cloud, first)
    template = _with(template, "R", **modify)
    plan = prov.plan("s1", template)
    assert plan.change("R").action is Action.MODIFY
    updated = prov.deploy("s1", template).resources["R"]
    assert updated.physical_id == first and modified(cloud, first)
    if replace is not None:
        template = _with(template, "R", **replace)
        assert prov.plan("s1", template).change("R").action is Action.REPLACE
        replaced = prov.deploy("s1", template).resources["R"].physical_id
        assert replaced != first and exists(cloud, replaced) and not exists(cloud, first)
        first = replaced
    prov.delete("s1")
    assert not exists(cloud, first)
    assert prov.describe("s1") is None


def _on_api(kind: str, **props: Any) -> dict[str, Any]:
    """An `AWS::ApiGateway::<kind>` of the RestApi `Api`."""
    return {"Type": f"AWS::ApiGateway::{kind}", "Properties": {"RestApiId": {"Ref": "Api"}, **props}}


def test_api_pieces_update_and_replace(prov: Provisioner, cloud: Any) -> None:
    apigw = cloud.client("apigateway")
    template = _stack(
        Api={"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api"}},
        Auth=_on_api(
            "Authorizer",
            Name="a",
            Type="COGNITO_USER_POOLS",
            ProviderARNs=["arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_x"],
            IdentitySource="method.request.header.Authorization",
        ),
        Res=_on_api("Resource", ParentId={"Fn::GetAtt": ["Api", "RootResourceId"]}, PathPart="a"),
        Get=_on_api(
            "Method",
            ResourceId={"Ref": "Res"},
            HttpMethod="GET",
            AuthorizationType="COGNITO_USER_POOLS",
            AuthorizerId={"Ref": "Auth"},
            Integration={"Type": "MOCK"},
        ),
        Dep={**_on_api("Deployment"), "DependsOn": "Get"},
        Stage=_on_api("Stage", DeploymentId={"Ref": "Dep"}, StageName="dev", Variables={"a": "1"}),
    )
    state = prov.deploy("s1", template)
    api_id = state.resources["Api"].physical_id
    assert apigw.get_stage(restApiId=api_id, stageName="dev")["variables"] == {"a": "1"}
    template = _with(template, "Stage", Variables={"a": "2"})
    template = _with(template, "Auth", IdentitySource="method.request.header.X-Token")
    template = _with(template, "Res", PathPart="b")
    plan = prov.plan("s1", template)
    assert plan.change("Res").action is Action.REPLACE
    assert (
        plan.change("Get").action is Action.REPLACE
        and plan.change("Get").replacement_property == "ResourceId"
    )
    assert plan.change("Auth").action is Action.MODIFY and plan.change("Stage").action is Action.MODIFY
    state = prov.deploy("s1", template)
    assert apigw.get_stage(restApiId=api_id, stageName="dev")["variables"] == {"a": "2"}
    auth = apigw.get_authorizer(restApiId=api_id, authorizerId=state.resources["Auth"].physical_id)
    assert auth["identitySource"] == "method.request.header.X-Token"
    assert {r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]} == {"/", "/b"}
    prov.delete("s1")
    assert apigw.get_rest_apis()["items"] == []


def test_replacing_a_dependency_repoints_dependents(prov: Provisioner, cloud: Any) -> None:
    template = _stack(
        Q={"Type": "AWS::SQS::Queue", "Properties": {}},
        P={
            "Type": "AWS::SSM::Parameter",
            "Properties": {"Type": "String", "Value": {"Fn::GetAtt": ["Q", "Arn"]}},
        },
    )
    state = prov.deploy("s1", template)
    template = _with(template, "Q", QueueName="fixed")
    plan = prov.plan("s1", template)
    assert plan.change("P").action is Action.MODIFY
    state = prov.deploy("s1", template)
    assert state.resources["P"].properties["Value"] == "arn:aws:sqs:us-east-1:123456789012:fixed"
    assert (
        cloud.client("ssm")
        .get_parameter(Name=state.resources["P"].physical_id)["Parameter"]["Value"]
        .endswith(":fixed")
    )


def test_custom_named_replacement_refused(prov: Provisioner) -> None:
    template = _stack(Q={"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "q"}})
    prov.deploy("s1", template)
    with pytest.raises(TemplateError, match="custom-named resource requires replacing. Rename q"):
        prov.deploy("s1", _with(template, "Q", FifoQueue=True))


def test_plan_lists_add_modify_replace_remove(prov: Provisioner, calls: CallLog) -> None:
    prov.deploy(
        "s1",
        _stack(
            Keep={"Type": "AWS::SQS::Queue", "Properties": {}},
            Mod={"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
            Rep={"Type": "AWS::SNS::Topic", "Properties": {}},
            Gone={"Type": "AWS::SNS::Topic", "Properties": {}},
        ),
    )
    calls.calls.clear()
    plan = prov.plan(
        "s1",
        _stack(
            Keep={"Type": "AWS::SQS::Queue", "Properties": {}},
            Mod={"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 60}},
            Rep={"Type": "AWS::SNS::Topic", "Properties": {"FifoTopic": True}},
            New={"Type": "AWS::SNS::Topic", "Properties": {}},
        ),
    )
    actions = {c.logical_id: c.action for c in plan.changes}
    assert actions == {
        "Keep": Action.UNCHANGED,
        "Mod": Action.MODIFY,
        "Rep": Action.REPLACE,
        "New": Action.ADD,
        "Gone": Action.REMOVE,
    }
    assert plan.change("Rep").replacement_property == "FifoTopic"
    assert plan.change("Mod").changed_properties == ("VisibilityTimeout",)
    assert calls.writes() == []


def test_removed_resource_deleted_and_retained_left(prov: Provisioner, cloud: Any) -> None:
    state = prov.deploy(
        "s1",
        _stack(
            A={"Type": "AWS::SNS::Topic", "Properties": {}},
            B={"Type": "AWS::SNS::Topic", "DeletionPolicy": "Retain", "Properties": {}},
            C={"Type": "AWS::SNS::Topic", "Properties": {}},
        ),
    )
    prov.deploy("s1", _stack(C={"Type": "AWS::SNS::Topic", "Properties": {}}))
    arns = [t["TopicArn"] for t in cloud.client("sns").list_topics()["Topics"]]
    assert state.resources["A"].physical_id not in arns
    assert state.resources["B"].physical_id in arns
    assert set(prov.describe("s1").resources) == {"C"}


def test_failed_create_rolls_back_new_stack(prov: Provisioner, cloud: Any) -> None:
    template = _stack(
        Q={"Type": "AWS::SQS::Queue", "Properties": {}},
        F={
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Role": "arn:aws:iam::123456789012:role/does-not-exist",
                "Handler": "x.handler",
                "Runtime": "python3.12",
                "Code": {"S3Bucket": "b", "S3Key": "k"},
                "Environment": {"Variables": {"Q": {"Ref": "Q"}}},
            },
        },
    )
    with pytest.raises(
        DeployError, match=r"F \(AWS::Lambda::Function\) failed: .*Rolled back \(ROLLBACK_COMPLETE\)"
    ):
        prov.deploy("s1", template)
    assert cloud.client("sqs").list_queues().get("QueueUrls", []) == []
    state = prov.describe("s1")
    assert state.status is StackStatus.ROLLBACK_COMPLETE and state.resources == {}


def test_failed_update_restores_previous_state(prov: Provisioner, cloud: Any) -> None:
    template = _stack(
        Q={"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}},
        P={"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": {"Ref": "Q"}}},
    )
    before = prov.deploy("s1", template)
    broken = _with(template, "Q", VisibilityTimeout=60)
    broken["Resources"]["Bad"] = {
        "Type": "AWS::Lambda::Function",
        "DependsOn": "Q",
        "Properties": {
            "Role": "arn:aws:iam::123456789012:role/missing",
            "Handler": "x.h",
            "Runtime": "python3.12",
            "Code": {"S3Bucket": "b", "S3Key": "k"},
        },
    }
    with pytest.raises(DeployError, match="Bad"):
        prov.deploy("s1", broken)
    url = before.resources["Q"].physical_id
    attrs = cloud.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "30"
    after = prov.describe("s1")
    assert after.status is StackStatus.UPDATE_ROLLBACK_COMPLETE
    assert set(after.resources) == {"Q", "P"} and after.resources["Q"].properties["VisibilityTimeout"] == 30


def test_function_created_with_placeholder_and_config_updated(prov: Provisioner, cloud: Any) -> None:
    role = cloud.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    template = _stack(
        F={
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Role": role,
                "Handler": "a.handler",
                "Runtime": "python3.12",
                "Timeout": 3,
                "Code": {"S3Bucket": "b", "S3Key": "v1.zip"},
                "Environment": {"Variables": {"A": "1"}},
            },
        }
    )
    name = prov.deploy("s1", template).resources["F"].physical_id
    template = _with(
        template,
        "F",
        Timeout=9,
        Environment={"Variables": {"A": "2"}},
        Code={"S3Bucket": "b", "S3Key": "v2.zip"},
    )
    state = prov.deploy("s1", template)
    config = cloud.client("lambda").get_function_configuration(FunctionName=name)
    assert config["Timeout"] == 9 and config["Environment"]["Variables"] == {"A": "2"}
    assert state.resources["F"].properties["Code"]["S3Key"] == "v2.zip"


def test_subscription_and_redrive(prov: Provisioner, cloud: Any) -> None:
    template = _stack(
        Dlq={"Type": "AWS::SQS::Queue", "Properties": {}},
        Q={
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Dlq", "Arn"]}, "maxReceiveCount": 3}
            },
        },
        T={"Type": "AWS::SNS::Topic", "Properties": {}},
        S={
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "TopicArn": {"Ref": "T"},
                "Protocol": "sqs",
                "Endpoint": {"Fn::GetAtt": ["Q", "Arn"]},
                "RawMessageDelivery": True,
            },
        },
    )
    state = prov.deploy("s1", template)
    attrs = cloud.client("sqs").get_queue_attributes(
        QueueUrl=state.resources["Q"].physical_id, AttributeNames=["RedrivePolicy"]
    )["Attributes"]
    assert '"maxReceiveCount": 3' in attrs["RedrivePolicy"]
    sub = cloud.client("sns").get_subscription_attributes(SubscriptionArn=state.resources["S"].physical_id)
    assert sub["Attributes"]["RawMessageDelivery"] == "true"
    prov.delete("s1")
    with pytest.raises(ClientError):
        cloud.client("sns").get_subscription_attributes(SubscriptionArn=state.resources["S"].physical_id)
