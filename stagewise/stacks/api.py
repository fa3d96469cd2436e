"""API Gateway REST routes for stack modules, following "API conventions" in docs/architecture.md.

Data flow: a stack passes its API — the `apigateway.RestApi` it owns, or the `RestApiId` it
imports from the stack that owns it — and gets troposphere resources added to its template:

    add_resources        paths → one `AWS::ApiGateway::Resource` per segment, parents first
    add_route            → `add_method` (COGNITO_USER_POOLS + AWS_PROXY to the function)
                           + `add_api_permission` (the function may be invoked for that method and path only)
    add_cors_preflight   → an OPTIONS method answered by API Gateway itself (MOCK) with CORS headers
    add_invoke_permission  a `Lambda::Permission` for any principal (API Gateway, SNS, ...)
    publish_api          the owner marks its API for publishing: `render_stage` then generates the
                         stack that owns its Deployment and Stage (stagewise/stacks/publish.py)

Logical ids come from the function (`<Function>Method`, `<Function>InvokePermission`) and the
resource (`<Resource minus "Resource">Options`), so two stacks that use these helpers render the
same JSON they would have written by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from troposphere import (
    AWSHelperFn,
    AWSObject,
    GetAtt,
    Ref,
    Sub,
    Template,
    apigateway,
    awslambda,
    encode_to_dict,
)

from stagewise.stacks.publish import PUBLISH_KEY, id_export_key

if TYPE_CHECKING:
    from stagewise.stacks.context import StackContext

# Headers a browser may send: API Gateway's usual list plus Powertools Idempotency's key.
CORS_HEADERS = "Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token,Idempotency-Key"
EXECUTE_API_ARN = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}"

Api = apigateway.RestApi | AWSHelperFn  # owned here, or imported (Fn::ImportValue of RestApiId)


def ref(thing: AWSObject | AWSHelperFn) -> AWSHelperFn:
    """`Ref` to a resource of this template; an imported value as it is."""
    return Ref(thing) if isinstance(thing, AWSObject) else thing


def execute_api_arn(api: Api, suffix: str) -> Sub:
    """`arn:...:execute-api:<region>:<account>:<api id>/<suffix>` (suffix e.g. `*/POST/billing`)."""
    if isinstance(api, apigateway.RestApi):
        return Sub(f"{EXECUTE_API_ARN}:${{{api.title}}}/{suffix}")
    return Sub(f"{EXECUTE_API_ARN}:${{ApiId}}/{suffix}", ApiId=api)


def source_path(path: str) -> str:
    """The path as it appears in an execute-api ARN (`notes/*` for `notes/{id}`)."""
    return "/".join("*" if part.startswith("{") else part for part in path.split("/"))


def resource_id(path: str) -> str:
    """`notes/{id}` → `NotesIdResource`."""
    words = path.replace("{", "").replace("}", "").replace("/", " ").replace("-", " ").split()
    return "".join(word.capitalize() for word in words) + "Resource"


def add_resources(
    template: Template, *, api: Api, paths: Iterable[str], root: AWSHelperFn | None = None
) -> dict[str, apigateway.Resource]:
    """One `AWS::ApiGateway::Resource` per path segment (`notes/{id}`: no leading slash), parents first.

    `root` is the API's root resource id; by default the owned API's `RootResourceId`.
    """
    root_id = root if root is not None else GetAtt(api, "RootResourceId")
    resources: dict[str, apigateway.Resource] = {}
    for path in sorted({"/".join(p.split("/")[: i + 1]) for p in paths for i in range(p.count("/") + 1)}):
        parent, _, part = path.rpartition("/")
        parent_id = Ref(resources[parent]) if parent else root_id
        resources[path] = template.add_resource(
            apigateway.Resource(resource_id(path), RestApiId=ref(api), ParentId=parent_id, PathPart=part)
        )
    return resources


def add_method(
    template: Template,
    *,
    api: Api,
    resource: apigateway.Resource,
    http_method: str,
    function: awslambda.Function,
    authorizer: apigateway.Authorizer | AWSHelperFn,
) -> apigateway.Method:
    """`<Function>Method`: Cognito-authorized, integrated with the function through AWS_PROXY."""
    uri = Sub(
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
        f"${{{function.title}.Arn}}/invocations"
    )
    return template.add_resource(
        apigateway.Method(
            f"{function.title}Method",
            RestApiId=ref(api),
            ResourceId=Ref(resource),
            HttpMethod=http_method,
            AuthorizationType="COGNITO_USER_POOLS",
            AuthorizerId=ref(authorizer),
            Integration=apigateway.Integration(Type="AWS_PROXY", IntegrationHttpMethod="POST", Uri=uri),
        )
    )


def add_invoke_permission(
    template: Template, *, function: awslambda.Function, principal: str, source_arn: object
) -> awslambda.Permission:
    """`<Function>InvokePermission`: `principal` may invoke the function, from `source_arn` only."""
    return template.add_resource(
        awslambda.Permission(
            f"{function.title}InvokePermission",
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(function, "Arn"),
            Principal=principal,
            SourceArn=source_arn,
        )
    )


def add_api_permission(
    template: Template, *, api: Api, http_method: str, path: str, function: awslambda.Function
) -> awslambda.Permission:
    """API Gateway may invoke the function, from this API, for this one method and path only."""
    return add_invoke_permission(
        template,
        function=function,
        principal="apigateway.amazonaws.com",
        source_arn=execute_api_arn(api, f"*/{http_method}/{source_path(path)}"),
    )


def add_route(
    template: Template,
    *,
    api: Api,
    resource: apigateway.Resource,
    path: str,
    http_method: str,
    function: awslambda.Function,
    authorizer: apigateway.Authorizer | AWSHelperFn,
) -> apigateway.Method:
    """The method of one route and the permission that lets it, and only it, invoke the function."""
    method = add_method(
        template, api=api, resource=resource, http_method=http_method, function=function, authorizer=authorizer
    )
    add_api_permission(template, api=api, http_method=http_method, path=path, function=function)
    return method


def add_cors_preflight(
    template: Template,
    *,
    api: Api,
    resource: apigateway.Resource,
    verbs: Iterable[str],
    allow_headers: str = CORS_HEADERS,
) -> apigateway.Method:
    """OPTIONS answered by API Gateway itself (MOCK) with the CORS headers; no authorizer, as browsers send none."""
    headers = {
        "method.response.header.Access-Control-Allow-Headers": f"'{allow_headers}'",
        "method.response.header.Access-Control-Allow-Methods": f"'{','.join(['OPTIONS', *verbs])}'",
        "method.response.header.Access-Control-Allow-Origin": "'*'",
    }
    return template.add_resource(
        apigateway.Method(
            resource.title.removesuffix("Resource") + "Options",
            RestApiId=ref(api),
            ResourceId=Ref(resource),
            HttpMethod="OPTIONS",
            AuthorizationType="NONE",
            Integration=apigateway.Integration(
                Type="MOCK",
                RequestTemplates={"application/json": '{"statusCode": 200}'},
                IntegrationResponses=[
                    apigateway.IntegrationResponse(
                        StatusCode="200", ResponseParameters=headers, ResponseTemplates={"application/json": ""}
                    )
                ],
            ),
            MethodResponses=[
                apigateway.MethodResponse(StatusCode="200", ResponseParameters={key: False for key in headers})
            ],
        )
    )


def publish_api(ctx: StackContext, template: Template, api: apigateway.RestApi, **stage: Any) -> None:
    """Publish `api` to the stage, with every route any stack of the stage adds to it.

    The Deployment and the Stage (`stage`: its properties, e.g. `TracingEnabled=True`) live in a
    stack of their own that `render_stage` generates, `<stage>-<app>-<service>-stage`, deployed
    after every stack that adds routes (stagewise/stacks/publish.py). Exports the API id as
    `<LogicalId>Id` (`RestApiId`: other stacks add routes with `ctx.import_value(<service>, "RestApiId")`)
    and the stage's URL as `ApiUrl`.
    """
    props = encode_to_dict(stage)  # plain JSON: it travels in the template's Metadata
    api.Metadata = {**(getattr(api, "Metadata", None) or {}), "stagewise": {PUBLISH_KEY: props}}
    ctx.export(template, id_export_key(api.title), Ref(api))
    url = f"https://${{{api.title}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{ctx.stage.name}"
    ctx.export(template, "ApiUrl", Sub(url), description="the stage's base URL (served once published)")
