"""A user pool, an identity pool whose authenticated role owns `private/<identity id>/` of a bucket,
deployed through the local CloudFormation in ACCOUNT_B; and the calls a signed-out client makes."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore import UNSIGNED
from botocore.config import Config

from stagewise.auth_local import id_token
from stagewise.cloud import LocalCloud
from tests.cloud.conftest import ACCOUNT_B, REGION, make_client

POOL_STACK = {
    "Resources": {
        "UserPool": {"Type": "AWS::Cognito::UserPool", "Properties": {
            "UserPoolName": "users", "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"]}},
        "Client": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {
            "ClientName": "web", "UserPoolId": {"Ref": "UserPool"}, "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}},
        "Other": {"Type": "AWS::Cognito::UserPoolClient", "Properties": {
            "ClientName": "other", "UserPoolId": {"Ref": "UserPool"}, "GenerateSecret": False,
            "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}},
        "IdentityPool": {"Type": "AWS::Cognito::IdentityPool", "Properties": {
            "IdentityPoolName": "identities", "AllowUnauthenticatedIdentities": False,
            "CognitoIdentityProviders": [{"ClientId": {"Ref": "Client"},
                                          "ProviderName": {"Fn::GetAtt": ["UserPool", "ProviderName"]}}]}},
        "Uploads": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "ids-uploads"}},
        "AuthRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                                                    "Principal": {"Federated": "cognito-identity.amazonaws.com"}}]},
            "Policies": [{"PolicyName": "OwnPrivateFiles", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": {"Fn::Sub": "${Uploads.Arn}/private/${!cognito-identity.amazonaws.com:sub}/*"}}]}}]}},
        "Roles": {"Type": "AWS::Cognito::IdentityPoolRoleAttachment", "Properties": {
            "IdentityPoolId": {"Ref": "IdentityPool"}, "Roles": {"authenticated": {"Fn::GetAtt": ["AuthRole", "Arn"]}}}},
    },
    "Outputs": {name: {"Value": {"Ref": name}} for name in ("UserPool", "Client", "Other", "IdentityPool")}
    | {"RoleArn": {"Value": {"Fn::GetAtt": ["AuthRole", "Arn"]}}},
}


def deploy_pool(cloud: LocalCloud) -> dict[str, str]:
    """The pool stack deployed in ACCOUNT_B through the local CloudFormation; its outputs."""
    cfn = make_client(cloud, "cloudformation", ACCOUNT_B)
    cfn.create_stack(StackName="ids", TemplateBody=json.dumps(POOL_STACK), Capabilities=["CAPABILITY_IAM"])
    cfn.get_waiter("stack_create_complete").wait(StackName="ids", WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return {o["OutputKey"]: o["OutputValue"] for o in cfn.describe_stacks(StackName="ids")["Stacks"][0]["Outputs"]}


def token_for(cloud: LocalCloud, pool: dict[str, str], email: str, client: str = "Client") -> str:
    return id_token(make_client(cloud, "cognito-idp", ACCOUNT_B), pool_id=pool["UserPool"],
                    client_id=pool[client], email=email)


def unsigned(cloud: LocalCloud) -> Any:
    """What a browser's SDK sends before it has credentials: no signature at all."""
    return boto3.session.Session().client("cognito-identity", region_name=REGION, endpoint_url=cloud.endpoint,
                                          config=Config(signature_version=UNSIGNED))


def logins(pool: dict[str, str], token: str) -> dict[str, str]:
    return {f"cognito-idp.{REGION}.amazonaws.com/{pool['UserPool']}": token}
