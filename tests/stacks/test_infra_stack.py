"""infra/stack.py: the table, bucket, user and identity pools the SPEC asks for, and their exports."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def infra(rendered) -> dict[str, Any]:
    return rendered["dev"]["infra"]


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]


def test_notes_table_is_keyed_by_user_and_note_on_demand_and_retained(infra) -> None:
    table = infra["Resources"]["NotesTable"]
    assert table["Properties"]["TableName"] == "dev-notes-notes"
    assert table["Properties"]["KeySchema"] == [
        {"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "noteId", "KeyType": "RANGE"}]
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")


def test_uploads_bucket_has_a_generated_name_cors_and_is_retained(infra) -> None:
    bucket = infra["Resources"]["UploadsBucket"]
    (rule,) = bucket["Properties"]["CorsConfiguration"]["CorsRules"]
    assert "BucketName" not in bucket["Properties"]
    assert sorted(rule["AllowedMethods"]) == ["DELETE", "GET", "HEAD", "POST", "PUT"]
    assert rule["AllowedOrigins"] == ["*"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")


def test_user_pool_signs_up_by_email_and_its_client_has_no_secret(infra, rendered) -> None:
    pool, client = props(infra, "UserPool"), props(infra, "UserPoolClient")
    assert pool["UserPoolName"] == "dev-notes-users"
    assert pool["UsernameAttributes"] == ["email"] and pool["AutoVerifiedAttributes"] == ["email"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is False
    assert client["GenerateSecret"] is False
    assert {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_SRP_AUTH"} <= set(client["ExplicitAuthFlows"])
    assert rendered["prod"]["infra"]["Resources"]["UserPool"]["DeletionPolicy"] == "RetainExceptOnCreate"


def test_identity_pool_admits_only_signed_in_users_of_the_pool(infra) -> None:
    pool = props(infra, "IdentityPool")
    assert pool["AllowUnauthenticatedIdentities"] is False
    assert pool["CognitoIdentityProviders"] == [
        {"ClientId": {"Ref": "UserPoolClient"}, "ProviderName": {"Fn::GetAtt": ["UserPool", "ProviderName"]}}]
    assert props(infra, "IdentityPoolRoles")["Roles"] == {"authenticated": {"Fn::GetAtt": ["AuthRole", "Arn"]}}


def test_auth_role_is_for_authenticated_identities_and_reaches_only_their_own_prefix(infra) -> None:
    role = props(infra, "AuthRole")
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Federated": "cognito-identity.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"cognito-identity.amazonaws.com:aud": {"Ref": "IdentityPool"}}
    assert trust["Condition"]["ForAnyValue:StringLike"] == {"cognito-identity.amazonaws.com:amr": "authenticated"}
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert [s["Resource"] for s in statements] == [
        [{"Fn::Sub": "${UploadsBucket.Arn}/private/${!cognito-identity.amazonaws.com:sub}/*"}]]
    assert all(a.startswith("s3:") and a.endswith("Object") for a in statements[0]["Action"])


def test_infra_exports_what_the_services_import(infra) -> None:
    assert set(infra["Outputs"]) == {
        "TableName", "TableArn", "BucketName", "BucketArn", "UserPoolId", "UserPoolArn", "UserPoolClientId",
        "IdentityPoolId", "AuthRoleName", "AuthRoleArn"}
    assert infra["Outputs"]["TableArn"]["Export"]["Name"] == "dev-notes-infra-TableArn"
