"""stagewise.stacks.api: routes on an owned or an imported REST API render the documented conventions."""

from __future__ import annotations

from troposphere import ImportValue, Template, apigateway, awslambda

from stagewise.stacks.api import (
    add_cors_preflight,
    add_invoke_permission,
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
              function=template.add_resource(_function()), authorizer=authorizer)
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
              function=template.add_resource(_function("Billing")), authorizer=auth)
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
    add_cors_preflight(template, api=api, resource=resource, verbs=["GET", "POST"], allow_headers="Authorization")
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
