"""The authorization test app (tests/stacks/fixtures/authz_app): one route per kind, as its docstring says.

The local gateway's authorizer plug-ins are tested against this app; these tests pin its
template (each route's AuthorizationType / AuthorizerId, the authorizers' properties) and its
authorizer functions' decisions.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from stagewise.config import load_project
from stagewise.stacks import render_stage

AUTHZ_APP = Path(__file__).parent / "fixtures" / "authz_app"
METHOD_ARN = "arn:aws:execute-api:us-east-1:111111111111:api1/dev/GET/custom-token"
ROUTES = {  # path → (AuthorizationType, AuthorizerId logical id)
    "public": ("NONE", None),
    "cognito": ("COGNITO_USER_POOLS", "UserPoolAuthorizer"),
    "iam": ("AWS_IAM", None),
    "custom-token": ("CUSTOM", "TokenAuthAuthorizer"),
    "custom-request": ("CUSTOM", "RequestAuthAuthorizer"),
}


@pytest.fixture(scope="module")
def templates() -> dict[str, dict[str, Any]]:
    project = load_project(AUTHZ_APP / "stagewise.toml")
    return render_stage(project, project.stage("dev"))


@pytest.fixture(scope="module")
def app(templates) -> dict[str, Any]:
    return templates["authz"]


def of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == type_name}


def test_each_route_has_its_kind_of_authorization(app) -> None:
    resources = of_type(app, "AWS::ApiGateway::Resource")
    methods = {resources[m["ResourceId"]["Ref"]]["PathPart"]: m for m in of_type(app, "AWS::ApiGateway::Method").values()}
    assert set(methods) == set(ROUTES)
    for path, (kind, authorizer) in ROUTES.items():
        method = methods[path]
        assert method["HttpMethod"] == "GET"
        assert (method["AuthorizationType"], method.get("AuthorizerId")) == (
            kind, {"Ref": authorizer} if authorizer else None), path
        assert "AuthorizationScopes" not in method
        assert method["Integration"]["Type"] == "AWS_PROXY"
    permissions = {p["SourceArn"]["Fn::Sub"].rsplit(":", 1)[1] for p in of_type(app, "AWS::Lambda::Permission").values()}
    assert permissions == {"${RestApi}/*/GET/" + path for path in ROUTES} | {"${RestApi}/authorizers/*"}


def test_the_authorizers_properties(app) -> None:
    authorizers = of_type(app, "AWS::ApiGateway::Authorizer")
    assert set(authorizers) == {"UserPoolAuthorizer", "TokenAuthAuthorizer", "RequestAuthAuthorizer"}
    assert authorizers["UserPoolAuthorizer"]["ProviderARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    token, request = authorizers["TokenAuthAuthorizer"], authorizers["RequestAuthAuthorizer"]
    assert {k: v for k, v in token.items() if k != "AuthorizerUri"} == {
        "Name": "dev-authz-token", "RestApiId": {"Ref": "RestApi"}, "Type": "TOKEN",
        "IdentitySource": "method.request.header.Authorization", "IdentityValidationExpression": "^[a-z]+$",
        "AuthorizerResultTtlInSeconds": 60}
    assert {k: v for k, v in request.items() if k != "AuthorizerUri"} == {
        "Name": "dev-authz-request", "RestApiId": {"Ref": "RestApi"}, "Type": "REQUEST",
        "IdentitySource": "method.request.header.X-Key, method.request.querystring.key",
        "AuthorizerResultTtlInSeconds": 0}
    prefix = "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
    assert token["AuthorizerUri"] == {"Fn::Sub": prefix + "${TokenAuth.Arn}/invocations"}
    assert request["AuthorizerUri"] == {"Fn::Sub": prefix + "${RequestAuth.Arn}/invocations"}
    functions = of_type(app, "AWS::Lambda::Function")
    assert (functions["TokenAuth"]["Handler"], functions["RequestAuth"]["Handler"]) == (
        "authz_fn.authorizers.token", "authz_fn.authorizers.request")
    for logical_id in ("TokenAuthAuthorizerPermission", "RequestAuthAuthorizerPermission"):
        permission = app["Resources"][logical_id]["Properties"]
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert permission["FunctionName"]["Fn::GetAtt"][0] == logical_id.removesuffix("AuthorizerPermission")


def test_the_caller_role_may_invoke_get_iam_only(app) -> None:
    (policy,) = app["Resources"]["CallerRole"]["Properties"]["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", ["execute-api:Invoke"])
    assert [r["Fn::Sub"] for r in statement["Resource"]] == [
        "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${RestApi}/*/GET/iam"]
    assert set(app["Outputs"]) >= {"RestApiId", "ApiUrl", "UserPoolId", "UserPoolClientId", "IdentityPoolId",
                                   "CallerRoleArn"}


def test_the_app_is_published_and_cfn_lint_clean(templates) -> None:
    from cfnlint.api import ManualArgs, lint

    assert set(templates) == {"authz", "authz-stage"}
    for service, template in templates.items():
        problems = lint(json.dumps(template), config=ManualArgs(regions=["us-east-1"]))
        assert [str(p) for p in problems if p.rule.id[0] in "EW"] == [], service


def _authorizers() -> ModuleType:
    path = AUTHZ_APP / "services" / "authz" / "authz_fn" / "authorizers.py"
    spec = importlib.util.spec_from_file_location("authz_app_authorizers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _effect(response: dict[str, Any]) -> tuple[str, str]:
    (statement,) = response["policyDocument"]["Statement"]
    return statement["Effect"], statement["Resource"]


def test_the_token_authorizer_decides_on_the_token() -> None:
    authorizers = _authorizers()

    def decide(token: str) -> dict[str, Any]:
        return authorizers.token({"type": "TOKEN", "authorizationToken": token, "methodArn": METHOD_ARN}, None)

    allowed = decide("allow")
    assert _effect(allowed) == ("Allow", METHOD_ARN)
    assert (allowed["principalId"], allowed["context"]) == ("token-user", {"user": "token-user", "tier": 3, "admin": True})
    assert _effect(decide("deny")) == ("Deny", METHOD_ARN) and "context" not in decide("deny")
    with pytest.raises(Exception, match="^Unauthorized$"):
        decide("unauthorized")
    assert "policyDocument" not in decide("malformed")
    with pytest.raises(RuntimeError):
        decide("other")


def test_the_request_authorizer_decides_on_the_x_key_header() -> None:
    authorizers = _authorizers()

    def decide(key: str | None) -> dict[str, Any]:
        event = {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": {"x-key": key} if key else {},
                 "queryStringParameters": {"key": "k1"}}
        return authorizers.request(event, None)

    allowed = decide("allow")
    assert _effect(allowed) == ("Allow", METHOD_ARN)
    assert allowed["context"] == {"user": "request-user", "key": "k1"}
    assert _effect(decide("deny"))[0] == "Deny"
    with pytest.raises(Exception, match="^Unauthorized$"):
        decide("unauthorized")
    with pytest.raises(RuntimeError):
        decide(None)
