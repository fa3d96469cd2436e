"""AWS::Lambda::LayerVersion: published from the artifacts bucket, referenced by functions, replaced, deleted."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stagewise.provisioner import Action, DeployError, Provisioner
from tests.provisioner.conftest import ACCOUNT, REGION, CallLog

BUCKET = "artifacts-bucket"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture
def bucket(cloud: Any) -> Any:
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key in ("deps-one.zip", "deps-two.zip"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"PK\x05\x06" + b"\0" * 18 + key.encode())
    return s3


def _template(key: str = "deps-one.zip") -> dict[str, Any]:
    return {
        "Resources": {
            "Deps": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {"LayerName": "dev-app-svc-deps", "Content": {"S3Bucket": BUCKET, "S3Key": key},
                               "CompatibleRuntimes": ["python3.12"]},
            },
            "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": TRUST}},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "FunctionName": "dev-app-fn",
                    "Runtime": "python3.12",
                    "Handler": "svc.handler.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Code": {"S3Bucket": BUCKET, "S3Key": "code.zip"},
                    "Layers": [{"Ref": "Deps"}],
                },
            },
        },
        "Outputs": {"LayerArn": {"Value": {"Fn::GetAtt": ["Deps", "LayerVersionArn"]}}},
    }


def _versions(cloud: Any) -> list[str]:
    return [v["LayerVersionArn"] for v in cloud.client("lambda").list_layer_versions(LayerName="dev-app-svc-deps")
            ["LayerVersions"]]


def test_a_function_lists_the_published_layer_version(prov: Provisioner, cloud: Any, bucket: Any) -> None:
    state = prov.deploy("dev-app-svc", _template())
    arn = state.resources["Deps"].physical_id
    assert arn == f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:dev-app-svc-deps:1"
    assert state.outputs["LayerArn"] == arn
    assert state.resources["Fn"].properties["Layers"] == [arn]
    config = cloud.client("lambda").get_function_configuration(FunctionName="dev-app-fn")
    assert [layer["Arn"] for layer in config["Layers"]] == [arn]
    layer = cloud.client("lambda").get_layer_version(LayerName="dev-app-svc-deps", VersionNumber=1)
    assert layer["Content"]["CodeSize"] == len(bucket.get_object(Bucket=BUCKET, Key="deps-one.zip")["Body"].read())


def test_same_content_is_unchanged_with_no_write(prov: Provisioner, cloud: Any, bucket: Any, calls: CallLog) -> None:
    prov.deploy("dev-app-svc", _template())
    plan = prov.plan("dev-app-svc", _template())
    assert {c.logical_id: c.action for c in plan.changes}["Deps"] is Action.UNCHANGED
    calls.calls.clear()
    prov.deploy("dev-app-svc", _template())
    assert calls.writes() == []


def test_new_content_publishes_a_new_version_repoints_the_function_and_deletes_the_old(
    prov: Provisioner, cloud: Any, bucket: Any
) -> None:
    first = prov.deploy("dev-app-svc", _template()).resources["Deps"].physical_id
    plan = prov.plan("dev-app-svc", _template("deps-two.zip"))
    change = {c.logical_id: c for c in plan.changes}["Deps"]
    assert change.action is Action.REPLACE
    second = prov.deploy("dev-app-svc", _template("deps-two.zip")).resources["Deps"].physical_id
    assert second.endswith(":2") and second != first
    config = cloud.client("lambda").get_function_configuration(FunctionName="dev-app-fn")
    assert [layer["Arn"] for layer in config["Layers"]] == [second]
    assert _versions(cloud) == [second]


def test_removing_the_stack_deletes_the_layer_version(prov: Provisioner, cloud: Any, bucket: Any) -> None:
    prov.deploy("dev-app-svc", _template())
    prov.delete("dev-app-svc")
    assert _versions(cloud) == []


def test_a_missing_artifact_fails_the_deploy_and_rolls_back(prov: Provisioner, cloud: Any, bucket: Any) -> None:
    broken = copy.deepcopy(_template("deps-missing.zip"))
    with pytest.raises(DeployError, match="Deps"):
        prov.deploy("dev-app-svc", broken)
    assert cloud.client("lambda").list_functions()["Functions"] == []
