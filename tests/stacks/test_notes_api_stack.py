"""services/notes-api/stack.py: routes, per-function least privilege, CORS, publishing, exports.

How the published API's Deployment and Stage are rendered is tests/stacks/test_publish.py."""

from __future__ import annotations

import json
from typing import Any

import pytest

TABLE = {"Fn::ImportValue": "dev-notes-infra-TableArn"}
PRIVATE = {"Fn::Join": ["", [{"Fn::ImportValue": "dev-notes-infra-BucketArn"}, "/private/*"]]}
EXPECTED_GRANTS = {
    "CreateNote": {("dynamodb:PutItem", "table"), ("s3:GetObject", "private")},
    "ListNotes": {("dynamodb:Query", "table"), ("s3:GetObject", "private")},
    "GetNote": {("dynamodb:GetItem", "table"), ("s3:GetObject", "private")},
    "UpdateNote": {("dynamodb:UpdateItem", "table"), ("dynamodb:GetItem", "table"), ("s3:GetObject", "private")},
    "DeleteNote": {("dynamodb:DeleteItem", "table")},
    "CreateAttachmentUrl": {("s3:PutObject", "private")},
}
ROUTES = {("POST", "/notes"): "CreateNote", ("GET", "/notes"): "ListNotes", ("GET", "/notes/{id}"): "GetNote",
          ("PUT", "/notes/{id}"): "UpdateNote", ("DELETE", "/notes/{id}"): "DeleteNote",
          ("POST", "/attachments"): "CreateAttachmentUrl"}


@pytest.fixture(scope="module")
def api(rendered) -> dict[str, Any]:
    return rendered["dev"]["notes-api"]


def of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == type_name}


def path_of(template: dict[str, Any], resource_ref: dict[str, Any]) -> str:
    parts, node = [], resource_ref
    while "Ref" in node:
        props = template["Resources"][node["Ref"]]["Properties"]
        parts.append(props["PathPart"])
        node = props["ParentId"]
    return "/" + "/".join(reversed(parts))


def test_each_route_is_an_iam_authorized_proxy_method_to_its_own_function(api) -> None:
    methods = {(m["HttpMethod"], path_of(api, m["ResourceId"])): m
               for m in of_type(api, "AWS::ApiGateway::Method").values() if m["HttpMethod"] != "OPTIONS"}
    assert set(methods) == set(ROUTES)
    for route, method in methods.items():
        function = ROUTES[route]
        assert method["AuthorizationType"] == "AWS_IAM" and "AuthorizerId" not in method
        integration = method["Integration"]
        assert (integration["Type"], integration["IntegrationHttpMethod"]) == ("AWS_PROXY", "POST")
        assert f"/functions/${{{function}.Arn}}/invocations" in integration["Uri"]["Fn::Sub"]
    functions = of_type(api, "AWS::Lambda::Function")
    assert set(functions) == set(ROUTES.values())
    assert {f["Handler"] for f in functions.values()} == {"notes_api.api.handler"}


def test_no_authorizer_and_no_user_pool_import(api) -> None:
    # AWS_IAM needs no authorizer resource: API Gateway checks the signature and the caller's policies
    assert of_type(api, "AWS::ApiGateway::Authorizer") == {}
    assert "dev-notes-infra-UserPoolArn" not in json.dumps(api)


def test_every_function_has_its_own_role_with_exactly_its_grants(api) -> None:
    for function, expected in EXPECTED_GRANTS.items():
        props = api["Resources"][function]["Properties"]
        assert props["Role"] == {"Fn::GetAtt": [f"{function}Role", "Arn"]}
        (policy,) = api["Resources"][f"{function}Role"]["Properties"]["Policies"]
        data = [s for s in policy["PolicyDocument"]["Statement"] if s.get("Sid") not in ("OwnLogs", "Tracing")]
        grants = set()
        for statement in data:
            (resource,) = statement["Resource"]
            kind = {str(TABLE): "table", str(PRIVATE): "private"}[str(resource)]
            grants |= {(action, kind) for action in statement["Action"]}
        assert grants == expected, function


def test_functions_read_table_and_bucket_names_from_infra(api) -> None:
    variables = api["Resources"]["CreateNote"]["Properties"]["Environment"]["Variables"]
    assert variables["TABLE_NAME"] == {"Fn::ImportValue": "dev-notes-infra-TableName"}
    assert variables["BUCKET_NAME"] == {"Fn::ImportValue": "dev-notes-infra-BucketName"}
    assert (variables["POWERTOOLS_SERVICE_NAME"], variables["POWERTOOLS_METRICS_NAMESPACE"]) == ("notes-api", "notes")


def test_each_permission_lets_only_this_api_call_one_function_on_its_route(api) -> None:
    permissions = of_type(api, "AWS::Lambda::Permission")
    assert len(permissions) == len(ROUTES)
    arns = {p["FunctionName"]["Fn::GetAtt"][0]: p["SourceArn"]["Fn::Sub"] for p in permissions.values()}
    assert arns["GetNote"].endswith(":${RestApi}/*/GET/notes/*")
    assert arns["CreateAttachmentUrl"].endswith(":${RestApi}/*/POST/attachments")
    assert all(p["Principal"] == "apigateway.amazonaws.com" for p in permissions.values())


def test_preflight_and_gateway_errors_carry_cors_headers(api) -> None:
    options = {path_of(api, m["ResourceId"]): m for m in of_type(api, "AWS::ApiGateway::Method").values()
               if m["HttpMethod"] == "OPTIONS"}
    assert set(options) == {"/notes", "/notes/{id}", "/attachments"}
    headers = options["/notes/{id}"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Methods"] == "'OPTIONS,DELETE,GET,PUT'"
    # the toolkit's default list: no other service's header (billing's Idempotency-Key is billing's)
    assert headers["method.response.header.Access-Control-Allow-Headers"] == (
        "'Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token'")
    assert options["/notes"]["AuthorizationType"] == "NONE" and options["/notes"]["Integration"]["Type"] == "MOCK"
    responses = {r["ResponseType"]: r for r in of_type(api, "AWS::ApiGateway::GatewayResponse").values()}
    assert set(responses) == {"DEFAULT_4XX", "DEFAULT_5XX"}
    own_origin = {"Fn::Join": ["", ["'", {"Fn::Sub": "https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"},
                                    "'"]]}  # no cors_origin for the stage: only the API's own pages
    assert responses["DEFAULT_4XX"]["ResponseParameters"]["gatewayresponse.header.Access-Control-Allow-Origin"] == own_origin
    assert headers["method.response.header.Access-Control-Allow-Origin"] == own_origin


def test_the_api_is_published_by_the_toolkit_not_by_this_stack(api) -> None:
    assert of_type(api, "AWS::ApiGateway::Deployment") == of_type(api, "AWS::ApiGateway::Stage") == {}
    assert api["Resources"]["RestApi"]["Metadata"]["stagewise"]["publish"] == {"TracingEnabled": True}


def test_signed_in_identities_may_invoke_this_stage_of_this_api_only(api, rendered) -> None:
    (policy,) = of_type(api, "AWS::IAM::Policy").values()
    assert policy["Roles"] == [{"Fn::ImportValue": "dev-notes-infra-AuthRoleName"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Effect"], statement["Action"]) == ("Allow", ["execute-api:Invoke"])
    assert statement["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${RestApi}/dev/*"}]
    # a feature stage on dev's infra adds its own policy to dev's role, for its own API and stage only
    (pr,) = of_type(rendered["pr-12"]["notes-api"], "AWS::IAM::Policy").values()
    assert pr["PolicyName"] != policy["PolicyName"]
    assert pr["Roles"] == [{"Fn::ImportValue": "dev-notes-infra-AuthRoleName"}]
    assert pr["PolicyDocument"]["Statement"][0]["Resource"][0]["Fn::Sub"].endswith(":${RestApi}/pr-12/*")


def test_exports_let_other_services_attach_to_the_api(api, rendered) -> None:
    assert {k: v["Export"]["Name"] for k, v in api["Outputs"].items()} == {
        key: f"dev-notes-notes-api-{key}" for key in ("RestApiId", "RootResourceId", "ApiUrl")}
    url = rendered["pr-12"]["notes-api"]["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
    assert url == "https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/pr-12"
