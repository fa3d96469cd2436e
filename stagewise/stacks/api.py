"""API Gateway REST routes for stack modules, following "API conventions" in docs/architecture.md.

Data flow: a stack passes its API — the `apigateway.RestApi` it owns, or the `RestApiId` it
imports from the stack that owns it — and gets troposphere resources added to its template:

    add_resources        paths → one `AWS::ApiGateway::Resource` per segment, parents first
    add_route            → `add_method` (the route's `authorization=` + AWS_PROXY to the function)
                           + `add_api_permission` (the function may be invoked for that method and path only)
    add_lambda_authorizer  a TOKEN or REQUEST `AWS::ApiGateway::Authorizer` backed by a function,
                           + the permission letting API Gateway invoke it as this API's authorizer
    add_cors_preflight   → an OPTIONS method answered by API Gateway itself (MOCK) with CORS headers
    add_cors_gateway_responses  API Gateway's own 4xx/5xx answers carry CORS headers too
    add_invoke_permission  a `Lambda::Permission` for any principal (API Gateway, SNS, ...)
    publish_api          the owner marks its API for publishing: `render_stage` then generates the
                         stack that owns its Deployment and Stage (stagewise/stacks/publish.py)

Authorization is a value per route (stagewise/stacks/authorization.py, re-exported here):
`Public()`, `Cognito(authorizer, scopes=())`, `Iam()`, `Custom(authorizer)`. The CORS headers a
browser may send are the caller's choice (`headers=`; default `DEFAULT_CORS_HEADERS`, API
Gateway's usual list): the toolkit knows no app's headers.

Logical ids come from the function (`<Function>Method`, `<Function>InvokePermission`,
`<Function>Authorizer` + `<Function>AuthorizerPermission`) and the resource (`<Resource minus
"Resource">Options`), so two stacks that use these helpers render the same JSON they would have
written by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

from troposphere import (
    AWSHelperFn,
    AWSObject,
    GetAtt,
    Join,
    Ref,
    Sub,
    Template,
    apigateway,
    awslambda,
    encode_to_dict,
)

from stagewise.stacks.authorization import (
    MAX_TTL_SECONDS,
    Authorization,
    Cognito,
    Custom,
    Iam,
    Public,
    identity_sources,
    method_properties,
)
from stagewise.stacks.publish import PUBLISH_KEY, id_export_key

if TYPE_CHECKING:
    from stagewise.stacks.context import StackContext

__all__ = [
    "DEFAULT_CORS_HEADERS",
    "Api",
    "Authorization",
    "Cognito",
    "Custom",
    "Iam",
    "Public",
    "add_api_permission",
    "add_cors_gateway_responses",
    "add_cors_preflight",
    "add_invoke_permission",
    "add_lambda_authorizer",
    "add_method",
    "add_resources",
    "add_route",
    "execute_api_arn",
    "function_invocation_uri",
    "publish_api",
    "ref",
    "resource_id",
    "source_path",
]

# Headers a browser may send by default: API Gateway's usual list. An app adds its own
# (billing-api: `Idempotency-Key`) with `headers=(*DEFAULT_CORS_HEADERS, "Idempotency-Key")`.
DEFAULT_CORS_HEADERS = ("Content-Type", "Authorization", "X-Amz-Date", "X-Api-Key", "X-Amz-Security-Token")
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


def function_invocation_uri(function: awslambda.Function) -> Sub:
    """`arn:<partition>:apigateway:<region>:lambda:path/2015-03-31/functions/<function arn>/invocations`."""
    return Sub(
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
        f"${{{function.title}.Arn}}/invocations"
    )


def add_method(
    template: Template,
    *,
    api: Api,
    resource: apigateway.Resource,
    http_method: str,
    function: awslambda.Function,
    authorization: Authorization,
) -> apigateway.Method:
    """`<Function>Method`: authorized as `authorization` says, integrated with the function through AWS_PROXY."""
    return template.add_resource(
        apigateway.Method(
            f"{function.title}Method",
            RestApiId=ref(api),
            ResourceId=Ref(resource),
            HttpMethod=http_method,
            **method_properties(authorization),
            Integration=apigateway.Integration(
                Type="AWS_PROXY", IntegrationHttpMethod="POST", Uri=function_invocation_uri(function)
            ),
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
    authorization: Authorization,
) -> apigateway.Method:
    """The method of one route and the permission that lets it, and only it, invoke the function."""
    method = add_method(
        template,
        api=api,
        resource=resource,
        http_method=http_method,
        function=function,
        authorization=authorization,
    )
    add_api_permission(template, api=api, http_method=http_method, path=path, function=function)
    return method


def add_lambda_authorizer(
    template: Template,
    *,
    api: Api,
    name: str | AWSHelperFn,
    function: awslambda.Function,
    kind: Literal["TOKEN", "REQUEST"] = "TOKEN",
    identity_source: str | Iterable[str] | None = None,
    validation_expression: str | None = None,
    ttl_seconds: int = 300,
    logical_id: str | None = None,
) -> apigateway.Authorizer:
    """`<Function>Authorizer`: a Lambda authorizer on `api`, and `<Function>AuthorizerPermission`.

    `name` is the authorizer's `Name` (give it the stage: `ctx.name("token")`). `kind` TOKEN reads
    one header (`identity_source`, default `method.request.header.Authorization`) that
    `validation_expression` (a regex, TOKEN only) must match before the function runs; REQUEST
    reads the mapping expressions of `identity_source` (`method.request.header.X-Key`,
    `method.request.querystring.key`, ...; rendered joined by ", "), required when results are
    cached. `ttl_seconds` (0..3600; 0 = no cache) is `AuthorizerResultTtlInSeconds`. The permission
    lets API Gateway invoke the function as any authorizer of this API (`.../<api>/authorizers/*`).
    Use it on routes with `Custom(authorizer)`.
    """
    if kind not in ("TOKEN", "REQUEST"):
        raise ValueError(f"kind is TOKEN or REQUEST, not {kind!r}")
    if not isinstance(ttl_seconds, int) or isinstance(ttl_seconds, bool) or not 0 <= ttl_seconds <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl_seconds is a whole number from 0 to {MAX_TTL_SECONDS}, not {ttl_seconds!r}")
    if validation_expression is not None and kind != "TOKEN":
        raise ValueError("validation_expression applies to TOKEN authorizers only")
    logical_id = logical_id or f"{function.title}Authorizer"
    props: dict[str, Any] = {
        "Name": name,
        "RestApiId": ref(api),
        "Type": kind,
        "AuthorizerUri": function_invocation_uri(function),
        "AuthorizerResultTtlInSeconds": ttl_seconds,
    }
    source = identity_sources(kind, identity_source, ttl_seconds)
    if source is not None:
        props["IdentitySource"] = source
    if validation_expression is not None:
        props["IdentityValidationExpression"] = validation_expression
    authorizer = template.add_resource(apigateway.Authorizer(logical_id, **props))
    template.add_resource(
        awslambda.Permission(
            f"{logical_id}Permission",
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(function, "Arn"),
            Principal="apigateway.amazonaws.com",
            SourceArn=execute_api_arn(api, "authorizers/*"),
        )
    )
    return authorizer


def _header_list(headers: str | Iterable[str]) -> str:
    names = [h.strip() for h in (headers.split(",") if isinstance(headers, str) else headers)]
    if not names or not all(names) or any("'" in h or " " in h for h in names):
        raise ValueError(f"CORS headers are header names, not {headers!r}")
    return ",".join(names)


def api_origin(api: Api) -> Sub:
    """The API's own origin, `https://<api id>.execute-api.<region>.<suffix>`: the CORS default, so no
    other page may read its answers unless the stage names one (`origin=`)."""
    if isinstance(api, apigateway.RestApi):
        return Sub(f"https://${{{api.title}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}")
    return Sub("https://${ApiId}.execute-api.${AWS::Region}.${AWS::URLSuffix}", ApiId=api)


def _quoted(origin: str | AWSHelperFn) -> str | AWSHelperFn:
    """A response-parameter value is a quoted literal: `'https://app.example.com'`."""
    if isinstance(origin, str):
        if origin == "*" or not origin.startswith(("http://", "https://")):
            raise ValueError(f"CORS origin must be one http(s) origin, not {origin!r} (never '*')")
        return f"'{origin.rstrip('/')}'"
    return Join("", ["'", origin, "'"])


def add_cors_preflight(
    template: Template,
    *,
    api: Api,
    resource: apigateway.Resource,
    verbs: Iterable[str],
    headers: str | Iterable[str] = DEFAULT_CORS_HEADERS,
    origin: str | AWSHelperFn | None = None,
) -> apigateway.Method:
    """OPTIONS answered by API Gateway itself (MOCK) with the CORS headers; no authorizer, as browsers send none.

    `headers`: the request headers a browser may send (names, or one comma-separated string).
    `origin`: the one origin whose pages may call (default: the API's own, `api_origin`); never `*`.
    """
    allowed = {
        "method.response.header.Access-Control-Allow-Headers": f"'{_header_list(headers)}'",
        "method.response.header.Access-Control-Allow-Methods": f"'{','.join(['OPTIONS', *verbs])}'",
        "method.response.header.Access-Control-Allow-Origin": _quoted(origin or api_origin(api)),
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
                        StatusCode="200", ResponseParameters=allowed, ResponseTemplates={"application/json": ""}
                    )
                ],
            ),
            MethodResponses=[
                apigateway.MethodResponse(StatusCode="200", ResponseParameters={key: False for key in allowed})
            ],
        )
    )


def add_cors_gateway_responses(
    template: Template,
    *,
    api: Api,
    headers: str | Iterable[str] = DEFAULT_CORS_HEADERS,
    kinds: Iterable[str] = ("DEFAULT_4XX", "DEFAULT_5XX"),
    origin: str | AWSHelperFn | None = None,
) -> list[apigateway.GatewayResponse]:
    """API Gateway's own answers (401 from an authorizer, 403, 5xx, ...) carry CORS headers too.

    One `<Kind>Response` (`DEFAULT_4XX` → `Default4XxResponse`) per response type; `origin` as for
    `add_cors_preflight`.
    """
    parameters = {
        "gatewayresponse.header.Access-Control-Allow-Origin": _quoted(origin or api_origin(api)),
        "gatewayresponse.header.Access-Control-Allow-Headers": f"'{_header_list(headers)}'",
    }
    return [
        template.add_resource(
            apigateway.GatewayResponse(
                f"{kind.title().replace('_', '')}Response",
                RestApiId=ref(api),
                ResponseType=kind,
                ResponseParameters=parameters,
            )
        )
        for kind in kinds
    ]


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
