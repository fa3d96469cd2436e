"""The realistic two-stack fixture: deploy, check moto holds every piece, no-op redeploy, exports, delete."""

from __future__ import annotations

import time
from typing import Any

import pytest

from stagewise.provisioner import ExportError, Provisioner, StackStatus
from tests.provisioner.conftest import CallLog
from tests.provisioner.templates import API, INFRA, api_template, infra_template


@pytest.fixture(autouse=True)
def managed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


def test_both_stacks_deploy_and_exist_in_moto(prov: Provisioner, cloud: Any) -> None:
    started = time.perf_counter()
    infra = prov.deploy(INFRA, infra_template())
    api = prov.deploy(API, api_template())
    elapsed = time.perf_counter() - started
    print(f"\ndeployed {len(infra.resources) + len(api.resources)} resources in {elapsed:.2f}s in-process")
    assert infra.status is StackStatus.CREATE_COMPLETE and api.status is StackStatus.CREATE_COMPLETE
    assert api.imports == sorted([f"{INFRA}-TableName", f"{INFRA}-TableArn", f"{INFRA}-UserPoolArn"])
    apigw = cloud.client("apigateway")
    api_id = api.resources["RestApi"].physical_id
    authorizer = apigw.get_authorizer(restApiId=api_id, authorizerId=api.resources["Authorizer"].physical_id)
    assert authorizer["providerARNs"] == [infra.exports[f"{INFRA}-UserPoolArn"]]
    assert (
        apigw.get_stage(restApiId=api_id, stageName="dev")["deploymentId"]
        == api.resources["Deployment"].physical_id
    )
    paths = {r["path"] for r in apigw.get_resources(restApiId=api_id)["items"]}
    assert paths == {"/", "/notes", "/notes/{id}"}
    method = apigw.get_method(
        restApiId=api_id, resourceId=api.resources["NotesResource"].physical_id, httpMethod="GET"
    )
    assert method["authorizationType"] == "COGNITO_USER_POOLS"
    assert method["methodIntegration"]["uri"].endswith(
        f"{api.resources['ListFunction'].attributes['Arn']}/invocations"
    )
    options = apigw.get_method(
        restApiId=api_id, resourceId=api.resources["NotesResource"].physical_id, httpMethod="OPTIONS"
    )
    assert options["methodIntegration"]["type"] == "MOCK"
    assert apigw.get_gateway_response(restApiId=api_id, responseType="UNAUTHORIZED")["statusCode"] == "401"
    pool_id = infra.resources["UserPool"].physical_id
    assert cloud.client("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"][
        "UsernameAttributes"
    ] == ["email"]
    client = cloud.client("cognito-idp").describe_user_pool_client(
        UserPoolId=pool_id, ClientId=infra.resources["UserPoolClient"].physical_id
    )["UserPoolClient"]
    assert "ClientSecret" not in client
    identity = cloud.client("cognito-identity").describe_identity_pool(
        IdentityPoolId=infra.resources["IdentityPool"].physical_id
    )
    assert (
        identity["CognitoIdentityProviders"][0]["ProviderName"]
        == f"cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    )
    cors = cloud.client("s3").get_bucket_cors(Bucket=infra.resources["UploadsBucket"].physical_id)[
        "CORSRules"
    ]
    assert cors[0]["AllowedMethods"] == ["GET", "PUT", "POST", "DELETE", "HEAD"]
    policy = cloud.client("lambda").get_policy(FunctionName=api.resources["ListFunction"].physical_id)[
        "Policy"
    ]
    assert "apigateway.amazonaws.com" in policy
    function = api.resources["ListFunction"]
    assert function.properties["Environment"]["Variables"]["TABLE_NAME"] == "dev-notes-notes"
    assert function.properties["Code"] == {"S3Bucket": "artifacts", "S3Key": "notes-api/abc123.zip"}
    assert function.metadata["stagewise"]["service"] == "notes-api"
    role = cloud.client("iam").get_role(RoleName=infra.resources["AuthRole"].physical_id)["Role"]
    assert role["Arn"] == infra.resources["RoleAttachment"].properties["Roles"]["authenticated"]


def test_unchanged_redeploy_makes_zero_write_calls(prov: Provisioner, calls: CallLog) -> None:
    prov.deploy(INFRA, infra_template())
    prov.deploy(API, api_template())
    calls.calls.clear()
    started = time.perf_counter()
    prov.deploy(INFRA, infra_template())
    prov.deploy(API, api_template())
    print(
        f"\nno-op redeploy of both stacks: {time.perf_counter() - started:.3f}s, {len(calls.calls)} read calls"
    )
    assert calls.writes() == []
    assert calls.calls  # it did read the state


def test_infra_cannot_be_deleted_while_api_imports_it(prov: Provisioner) -> None:
    prov.deploy(INFRA, infra_template())
    prov.deploy(API, api_template())
    with pytest.raises(
        ExportError, match=f"Export {INFRA}-Table.* cannot be deleted as it is in use by {API}"
    ):
        prov.delete(INFRA)
    assert prov.describe(INFRA).status is StackStatus.CREATE_COMPLETE


def test_delete_api_then_infra_keeps_retained(prov: Provisioner, cloud: Any) -> None:
    infra = prov.deploy(INFRA, infra_template())
    api = prov.deploy(API, api_template())
    prov.delete(API)
    prov.delete(INFRA)
    assert prov.list_stacks() == []
    assert prov.exports() == {}
    assert cloud.client("apigateway").get_rest_apis()["items"] == []
    assert cloud.client("lambda").list_functions()["Functions"] == []
    assert api.resources["FunctionRole"].physical_id not in str(cloud.client("iam").list_roles())
    assert cloud.client("dynamodb").list_tables()["TableNames"] == ["dev-notes-notes"]  # Retain
    buckets = [b["Name"] for b in cloud.client("s3").list_buckets()["Buckets"]]
    assert infra.resources["UploadsBucket"].physical_id in buckets  # Retain
    assert cloud.client("cognito-idp").list_user_pools(MaxResults=10)["UserPools"] == []
