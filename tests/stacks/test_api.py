"""stagewise.stacks.api: routes on an owned or an imported REST API render the documented conventions."""

from __future__ import annotations

import pytest
from troposphere import ImportValue, Template, apigateway, awslambda

from stagewise.stacks.api import (
    DEFAULT_CORS_HEADERS,
    Cognito,
    Custom,
    Iam,
    Public,
    add_cors_gateway_responses,
    add_cors_preflight,
    add_invoke_permission,
    add_lambda_authorizer,
    add_method,
    add_resources,
    add_route,
    resource_id,
    source_path,
)


def _function(title: str = "GetNote") -> awslambda.Function:
    return awslambda.Function(title, Handler="h.h", Role="arn:aws:iam::1:role/r", Runtime="python3.12",
                              Code=awslambda.Code(ZipFile="x"))


def test_resources_are_one_per_segment_parents_first_under_the_root():
    template = Template()
    api = template.add_resource(apigateway.RestApi("RestApi", Name="api"))
    resources = add_resources(template, api=api, paths={"notes/{id}", "attachments"})
    body = template.to_dict()["Resources"]
    assert list(resources) == ["attachments", "notes", "notes/{id}"]
    assert body["NotesIdResource"]["Properties"] == {
        "RestApiId": {"Ref": "RestApi"}, "ParentId": {"Ref": "NotesResource"}, "PathPart": "{id}"}
    assert body["NotesResource"]["Properties"]["ParentId"] == {"Fn::GetAtt": ["RestApi", "RootResourceId"]}


def test_a_route_on_an_owned_api_is_cognito_proxy_with_a_permission_for_that_path_only():
    template = Template()
    api = template.add_resource(apigateway.RestApi("RestApi", Name="api"))
    authorizer = template.add_resource(apigateway.Authorizer("Auth", Name="a", RestApiId="a", Type="COGNITO_USER_POOLS"))
    resource = add_resources(template, api=api, paths=["notes/{id}"])["notes/{id}"]
    add_route(template, api=api, resource=resource, path="notes/{id}", http_method="GET",
              function=template.add_resource(_function()), authorization=Cognito(authorizer))
    body = template.to_dict()["Resources"]
    method = body["GetNoteMethod"]["Properties"]
    assert (method["AuthorizationType"], method["AuthorizerId"]) == ("COGNITO_USER_POOLS", {"Ref": "Auth"})
    assert method["Integration"]["Type"] == "AWS_PROXY" and method["Integration"]["IntegrationHttpMethod"] == "POST"
    assert "${GetNote.Arn}/invocations" in method["Integration"]["Uri"]["Fn::Sub"]
    permission = body["GetNoteInvokePermission"]["Properties"]
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${RestApi}/*/GET/notes/*")


def test_an_imported_api_is_used_as_given_and_substituted_into_the_source_arn():
    template = Template()
    api_id, root, auth = ImportValue("dev-notes-notes-api-RestApiId"), ImportValue("root"), ImportValue("auth")
    resource = add_resources(template, api=api_id, paths=["billing"], root=root)["billing"]
    add_route(template, api=api_id, resource=resource, path="billing", http_method="POST",
              function=template.add_resource(_function("Billing")), authorization=Cognito(auth))
    body = template.to_dict()["Resources"]
    assert body["BillingResource"]["Properties"]["ParentId"] == {"Fn::ImportValue": "root"}
    assert body["BillingMethod"]["Properties"]["AuthorizerId"] == {"Fn::ImportValue": "auth"}
    text, variables = body["BillingInvokePermission"]["Properties"]["SourceArn"]["Fn::Sub"]
    assert text.endswith(":${ApiId}/*/POST/billing")
    assert variables == {"ApiId": {"Fn::ImportValue": "dev-notes-notes-api-RestApiId"}}


def test_preflight_is_mock_without_authorizer_listing_options_and_the_verbs():
    template = Template()
    api = template.add_resource(apigateway.RestApi("RestApi", Name="api"))
    resource = add_resources(template, api=api, paths=["notes"])["notes"]
    add_cors_preflight(template, api=api, resource=resource, verbs=["GET", "POST"], headers=["Authorization"])
    options = template.to_dict()["Resources"]["NotesOptions"]["Properties"]
    assert (options["HttpMethod"], options["AuthorizationType"]) == ("OPTIONS", "NONE")
    assert options["Integration"]["Type"] == "MOCK"
    headers = options["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
    assert headers["method.response.header.Access-Control-Allow-Methods"] == "'OPTIONS,GET,POST'"
    assert headers["method.response.header.Access-Control-Allow-Headers"] == "'Authorization'"


def test_invoke_permission_for_another_principal():
    template = Template()
    add_invoke_permission(template, function=template.add_resource(_function("Notify")),
                          principal="sns.amazonaws.com", source_arn="arn:aws:sns:us-east-1:1:t")
    permission = template.to_dict()["Resources"]["NotifyInvokePermission"]["Properties"]
    assert (permission["Principal"], permission["SourceArn"]) == ("sns.amazonaws.com", "arn:aws:sns:us-east-1:1:t")
    assert permission["FunctionName"] == {"Fn::GetAtt": ["Notify", "Arn"]}


def test_names():
    assert (source_path("notes/{id}"), resource_id("notes/{id}"), resource_id("my-files")) == (
        "notes/*", "NotesIdResource", "MyFilesResource")


def _method(authorization, *, function: str = "GetNote") -> dict:
    template = Template()
    api = template.add_resource(apigateway.RestApi("RestApi", Name="api"))
    resource = add_resources(template, api=api, paths=["notes"])["notes"]
    add_method(template, api=api, resource=resource, http_method="GET",
               function=template.add_resource(_function(function)), authorization=authorization)
    return template.to_dict()["Resources"][f"{function}Method"]["Properties"]


def _authorizers() -> tuple[Template, apigateway.RestApi, apigateway.Authorizer, apigateway.Authorizer]:
    template = Template()
    api = template.add_resource(apigateway.RestApi("RestApi", Name="api"))
    pool = template.add_resource(apigateway.Authorizer("Pool", Name="p", RestApiId="a", Type="COGNITO_USER_POOLS"))
    token = add_lambda_authorizer(template, api=api, name="dev-t-token", function=template.add_resource(_function("Token")))
    return template, api, pool, token


def test_each_authorization_kind_renders_the_methods_authorization_properties():
    _, _, pool, token = _authorizers()
    keys = ("AuthorizationType", "AuthorizerId", "AuthorizationScopes")
    assert {k: _method(Public()).get(k) for k in keys} == {
        "AuthorizationType": "NONE", "AuthorizerId": None, "AuthorizationScopes": None}
    assert {k: _method(Iam()).get(k) for k in keys} == {
        "AuthorizationType": "AWS_IAM", "AuthorizerId": None, "AuthorizationScopes": None}
    assert {k: _method(Cognito(pool)).get(k) for k in keys} == {
        "AuthorizationType": "COGNITO_USER_POOLS", "AuthorizerId": {"Ref": "Pool"}, "AuthorizationScopes": None}
    assert {k: _method(Cognito(pool, scopes=["notes/read", "notes/write"])).get(k) for k in keys} == {
        "AuthorizationType": "COGNITO_USER_POOLS", "AuthorizerId": {"Ref": "Pool"},
        "AuthorizationScopes": ["notes/read", "notes/write"]}
    assert {k: _method(Custom(token)).get(k) for k in keys} == {
        "AuthorizationType": "CUSTOM", "AuthorizerId": {"Ref": "TokenAuthorizer"}, "AuthorizationScopes": None}
    assert _method(Custom(ImportValue("auth")))["AuthorizerId"] == {"Fn::ImportValue": "auth"}


def test_authorization_kinds_are_frozen_values_and_refuse_the_wrong_authorizer():
    _, _, pool, token = _authorizers()
    assert Public() == Public() and Iam() == Iam() and Public() != Iam()
    assert Cognito(pool, scopes=["a"]).scopes == ("a",) and Cognito(pool, scopes="a") == Cognito(pool, scopes=("a",))
    with pytest.raises(AttributeError):
        Cognito(pool).scopes = ("x",)  # type: ignore[misc]
    with pytest.raises(ValueError, match="TOKEN"):
        Cognito(token)
    with pytest.raises(ValueError, match="COGNITO_USER_POOLS"):
        Custom(pool)
    with pytest.raises(ValueError, match="scopes"):
        Cognito(pool, scopes=[""])
    with pytest.raises(TypeError):
        Custom("auth-id")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="authorization= takes"):
        _method(pool)  # an authorizer is not an authorization


def test_a_token_authorizer_invokes_its_function_and_api_gateway_may_invoke_it():
    template, _, _, _ = _authorizers()
    body = template.to_dict()["Resources"]
    props = body["TokenAuthorizer"]["Properties"]
    assert props == {
        "Name": "dev-t-token", "RestApiId": {"Ref": "RestApi"}, "Type": "TOKEN",
        "AuthorizerUri": {"Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
                                     "functions/${Token.Arn}/invocations"},
        "AuthorizerResultTtlInSeconds": 300, "IdentitySource": "method.request.header.Authorization"}
    permission = body["TokenAuthorizerPermission"]["Properties"]
    assert (permission["Principal"], permission["FunctionName"]) == ("apigateway.amazonaws.com", {"Fn::GetAtt": ["Token", "Arn"]})
    assert permission["SourceArn"] == {"Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                                                  "${RestApi}/authorizers/*"}


def test_a_request_authorizer_lists_its_identity_sources_and_takes_no_validation_expression():
    template = Template()
    api = ImportValue("api")
    function = template.add_resource(_function("Gate"))
    add_lambda_authorizer(template, api=api, name="n", function=function, kind="REQUEST", ttl_seconds=0,
                          identity_source=["method.request.header.X-Key", "method.request.querystring.key"])
    props = template.to_dict()["Resources"]["GateAuthorizer"]["Properties"]
    assert (props["Type"], props["AuthorizerResultTtlInSeconds"], props["RestApiId"]) == ("REQUEST", 0, {"Fn::ImportValue": "api"})
    assert props["IdentitySource"] == "method.request.header.X-Key, method.request.querystring.key"
    assert "IdentityValidationExpression" not in props
    text, variables = template.to_dict()["Resources"]["GateAuthorizerPermission"]["Properties"]["SourceArn"]["Fn::Sub"]
    assert text.endswith(":${ApiId}/authorizers/*") and variables == {"ApiId": {"Fn::ImportValue": "api"}}


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "JWT"}, "TOKEN or REQUEST"),
    ({"kind": "REQUEST", "validation_expression": "^x$"}, "TOKEN authorizers only"),
    ({"kind": "REQUEST"}, "needs an identity_source"),
    ({"identity_source": "method.request.querystring.token"}, "exactly one header"),
    ({"identity_source": ["method.request.header.A", "method.request.header.B"]}, "exactly one header"),
    ({"identity_source": "header.Authorization"}, "identity source"),
    ({"ttl_seconds": 3601}, "0 to 3600"),
    ({"ttl_seconds": -1}, "0 to 3600"),
])
def test_lambda_authorizers_refuse_what_api_gateway_refuses(kwargs, message):
    template = Template()
    api = template.add_resource(apigateway.RestApi("RestApi", Name="api"))
    with pytest.raises(ValueError, match=message):
        add_lambda_authorizer(template, api=api, name="n", function=template.add_resource(_function("Gate")), **kwargs)


def test_a_token_authorizer_with_a_validation_expression_and_its_own_header():
    template = Template()
    api = template.add_resource(apigateway.RestApi("RestApi", Name="api"))
    add_lambda_authorizer(template, api=api, name="n", function=template.add_resource(_function("Gate")),
                          identity_source="method.request.header.X-Token", validation_expression="^(allow|deny)$",
                          ttl_seconds=60, logical_id="Gatekeeper")
    props = template.to_dict()["Resources"]["Gatekeeper"]["Properties"]
    assert (props["IdentitySource"], props["IdentityValidationExpression"], props["AuthorizerResultTtlInSeconds"]) == (
        "method.request.header.X-Token", "^(allow|deny)$", 60)
    assert "GatekeeperPermission" in template.to_dict()["Resources"]


def test_cors_headers_are_the_callers_choice_and_the_default_knows_no_app():
    assert DEFAULT_CORS_HEADERS == ("Content-Type", "Authorization", "X-Amz-Date", "X-Api-Key", "X-Amz-Security-Token")
    template = Template()
    api = template.add_resource(apigateway.RestApi("RestApi", Name="api"))
    resources = add_resources(template, api=api, paths=["a", "b"])
    add_cors_preflight(template, api=api, resource=resources["a"], verbs=["GET"])
    add_cors_preflight(template, api=api, resource=resources["b"], verbs=["POST"], headers=(*DEFAULT_CORS_HEADERS, "Idempotency-Key"))
    add_cors_gateway_responses(template, api=api, headers="Content-Type, X-Key")
    body = template.to_dict()["Resources"]

    def allowed(options: str) -> str:
        return body[options]["Properties"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
            "method.response.header.Access-Control-Allow-Headers"]

    assert allowed("AOptions") == "'Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token'"
    assert allowed("BOptions") == "'Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token,Idempotency-Key'"
    responses = {k: v["Properties"] for k, v in body.items() if v["Type"] == "AWS::ApiGateway::GatewayResponse"}
    assert set(responses) == {"Default4XxResponse", "Default5XxResponse"}
    assert responses["Default4XxResponse"]["ResponseParameters"] == {
        "gatewayresponse.header.Access-Control-Allow-Origin": {"Fn::Join": ["", ["'", {
            "Fn::Sub": "https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}, "'"]]},  # the API's own
        "gatewayresponse.header.Access-Control-Allow-Headers": "'Content-Type,X-Key'"}
    other = Template()
    other_api = other.add_resource(apigateway.RestApi("RestApi", Name="api"))
    other_resources = add_resources(other, api=other_api, paths=["c"])
    configured = add_cors_preflight(other, api=other_api, resource=other_resources["c"], verbs=["PUT"],
                                    origin="https://app.example.com/").to_dict()
    assert configured["Properties"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"][
        "method.response.header.Access-Control-Allow-Origin"] == "'https://app.example.com'"
    for wrong in ("*", "app.example.com"):
        with pytest.raises(ValueError, match="never"):
            add_cors_preflight(Template(), api=other_api, resource=other_resources["c"], verbs=["PUT"], origin=wrong)
    with pytest.raises(ValueError, match="header names"):
        add_cors_preflight(template, api=api, resource=resources["a"], verbs=["GET"], headers="a b")
