"""notes-api: the stage's REST API, its Cognito authorizer and one least-privilege function per route.

Data flow: `build(ctx)` reads the table, bucket, user pool and auth role from infra's exports
(`ctx.import_value("infra", ...)`), declares every route in ROUTES (method, path, function,
IAM statements), and turns each into a Lambda function with its own role, an
`AWS::ApiGateway::Method` (AWS_PROXY, Cognito), and a `Lambda::Permission` for exactly
that route. CORS preflight (MOCK OPTIONS methods) and gateway responses make the API usable
from a browser. A Deployment whose logical id hashes the API's methods, and a Stage named
after the stage, publish it. Exports: RestApiId, RootResourceId, AuthorizerId, ApiUrl.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from awacs import dynamodb as ddb
from awacs import execute_api
from awacs import s3 as awacs_s3
from awacs.aws import Action, Allow, PolicyDocument, Statement
from troposphere import AWSObject, GetAtt, ImportValue, Join, Ref, Sub, Template, apigateway, awslambda, iam

from stagewise.stacks import StackContext

HANDLER = "notes_api.api.handler"
CORS_HEADERS = "Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token,Idempotency-Key"
PARTITION_REGION_ACCOUNT = "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}"

Grant = Callable[["Imports"], list[Statement]]


@dataclass(frozen=True)
class Imports:
    """What this stack reads from infra."""

    table_name: ImportValue
    table_arn: ImportValue
    bucket_name: ImportValue
    bucket_arn: ImportValue
    user_pool_arn: ImportValue
    auth_role_name: ImportValue

    @classmethod
    def of(cls, ctx: StackContext) -> Imports:
        def infra(name: str) -> ImportValue:
            return ctx.import_value("infra", name)

        return cls(
            table_name=infra("TableName"),
            table_arn=infra("TableArn"),
            bucket_name=infra("BucketName"),
            bucket_arn=infra("BucketArn"),
            user_pool_arn=infra("UserPoolArn"),
            auth_role_name=infra("AuthRoleName"),
        )

    @property
    def private_files(self) -> Join:
        return Join("", [self.bucket_arn, "/private/*"])


def on_table(*actions: Action) -> Grant:
    return lambda imports: [Statement(Effect=Allow, Action=list(actions), Resource=[imports.table_arn])]


def on_private_files(*actions: Action) -> Grant:
    return lambda imports: [Statement(Effect=Allow, Action=list(actions), Resource=[imports.private_files])]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "notes/{id}" (no leading slash)
    function: str  # logical id
    grants: tuple[Grant, ...]

    @property
    def source_path(self) -> str:
        """The path as it appears in an execute-api ARN (`notes/*` for `notes/{id}`)."""
        return "/".join("*" if part.startswith("{") else part for part in self.path.split("/"))


ROUTES = (
    # Every note returned carries a download URL signed with the function's own credentials,
    # so each route that returns notes may read the private files.
    Route("POST", "notes", "CreateNote", (on_table(ddb.PutItem), on_private_files(awacs_s3.GetObject))),
    Route("GET", "notes", "ListNotes", (on_table(ddb.Query), on_private_files(awacs_s3.GetObject))),
    Route("GET", "notes/{id}", "GetNote", (on_table(ddb.GetItem), on_private_files(awacs_s3.GetObject))),
    Route(
        "PUT",
        "notes/{id}",
        "UpdateNote",
        (on_table(ddb.UpdateItem, ddb.GetItem), on_private_files(awacs_s3.GetObject)),
    ),
    Route("DELETE", "notes/{id}", "DeleteNote", (on_table(ddb.DeleteItem),)),
    Route("POST", "attachments", "CreateAttachmentUrl", (on_private_files(awacs_s3.PutObject),)),
)


def build(ctx: StackContext) -> Template:
    template = Template(Description=f"{ctx.stack_name}: the notes REST API and its functions")
    imports = Imports.of(ctx)
    api = template.add_resource(
        apigateway.RestApi(
            "RestApi",
            Name=ctx.name("api"),
            EndpointConfiguration=apigateway.EndpointConfiguration(Types=["REGIONAL"]),
        )
    )
    authorizer = template.add_resource(
        apigateway.Authorizer(
            "UserPoolAuthorizer",
            Name=ctx.name("users"),
            RestApiId=Ref(api),
            Type="COGNITO_USER_POOLS",
            ProviderARNs=[imports.user_pool_arn],
            IdentitySource="method.request.header.Authorization",
        )
    )
    resources = add_resources(template, api, {route.path for route in ROUTES})
    methods: list[AWSObject] = []
    for route in ROUTES:
        function = add_route_function(template, ctx, route, imports)
        methods.append(
            add_method(
                template,
                route=route,
                api=api,
                resource=resources[route.path],
                authorizer=authorizer,
                function=function,
            )
        )
        add_permission(template, route=route, api=api, function=function)
    for path, resource in sorted(resources.items()):
        verbs = sorted({r.method for r in ROUTES if r.path == path})
        if verbs:
            methods.append(add_preflight(template, api=api, resource=resource, verbs=verbs))
    responses = add_gateway_responses(template, api)
    publish(template, ctx, api=api, parts=[*methods, *responses, authorizer, *resources.values()])
    grant_invoke(template, ctx, api=api, imports=imports)
    ctx.export(template, "RestApiId", Ref(api))
    ctx.export(template, "RootResourceId", GetAtt(api, "RootResourceId"))
    ctx.export(template, "AuthorizerId", Ref(authorizer))
    ctx.export(
        template,
        "ApiUrl",
        Sub(f"https://${{RestApi}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{ctx.stage.name}"),
    )
    return template


def add_resources(
    template: Template, api: apigateway.RestApi, paths: set[str]
) -> dict[str, apigateway.Resource]:
    """One `AWS::ApiGateway::Resource` per path segment, parents before children."""
    resources: dict[str, apigateway.Resource] = {}
    for path in sorted({"/".join(p.split("/")[: i + 1]) for p in paths for i in range(p.count("/") + 1)}):
        parent, _, part = path.rpartition("/")
        parent_id = Ref(resources[parent]) if parent else GetAtt(api, "RootResourceId")
        resources[path] = template.add_resource(
            apigateway.Resource(_resource_id(path), RestApiId=Ref(api), ParentId=parent_id, PathPart=part)
        )
    return resources


def _resource_id(path: str) -> str:
    """`notes/{id}` → `NotesIdResource`."""
    words = path.replace("{", "").replace("}", "").replace("/", " ").replace("-", " ").split()
    return "".join(word.capitalize() for word in words) + "Resource"


def add_route_function(
    template: Template, ctx: StackContext, route: Route, imports: Imports
) -> awslambda.Function:
    statements = [statement for grant in route.grants for statement in grant(imports)]
    return ctx.function(
        template,
        route.function,
        handler=HANDLER,
        statements=statements,
        environment={"TABLE_NAME": imports.table_name, "BUCKET_NAME": imports.bucket_name},
        description=f"{route.method} /{route.path}",
    )


def add_method(
    template: Template,
    *,
    route: Route,
    api: apigateway.RestApi,
    resource: apigateway.Resource,
    authorizer: apigateway.Authorizer,
    function: awslambda.Function,
) -> apigateway.Method:
    uri = Sub(
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
        f"${{{function.title}.Arn}}/invocations"
    )
    return template.add_resource(
        apigateway.Method(
            f"{route.function}Method",
            RestApiId=Ref(api),
            ResourceId=Ref(resource),
            HttpMethod=route.method,
            AuthorizationType="COGNITO_USER_POOLS",
            AuthorizerId=Ref(authorizer),
            Integration=apigateway.Integration(Type="AWS_PROXY", IntegrationHttpMethod="POST", Uri=uri),
        )
    )


def add_permission(
    template: Template, *, route: Route, api: apigateway.RestApi, function: awslambda.Function
) -> None:
    """API Gateway may invoke the function, from this API, for this one method and path only."""
    template.add_resource(
        awslambda.Permission(
            f"{route.function}InvokePermission",
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(function, "Arn"),
            Principal="apigateway.amazonaws.com",
            SourceArn=Sub(f"{PARTITION_REGION_ACCOUNT}:${{RestApi}}/*/{route.method}/{route.source_path}"),
        )
    )


def add_preflight(
    template: Template, *, api: apigateway.RestApi, resource: apigateway.Resource, verbs: list[str]
) -> apigateway.Method:
    """OPTIONS answered by API Gateway itself (MOCK) with the CORS headers; no authorizer, as browsers send none."""
    headers = {
        "method.response.header.Access-Control-Allow-Headers": f"'{CORS_HEADERS}'",
        "method.response.header.Access-Control-Allow-Methods": f"'{','.join(['OPTIONS', *verbs])}'",
        "method.response.header.Access-Control-Allow-Origin": "'*'",
    }
    return template.add_resource(
        apigateway.Method(
            resource.title.removesuffix("Resource") + "Options",
            RestApiId=Ref(api),
            ResourceId=Ref(resource),
            HttpMethod="OPTIONS",
            AuthorizationType="NONE",
            Integration=apigateway.Integration(
                Type="MOCK",
                RequestTemplates={"application/json": '{"statusCode": 200}'},
                IntegrationResponses=[
                    apigateway.IntegrationResponse(
                        StatusCode="200",
                        ResponseParameters=headers,
                        ResponseTemplates={"application/json": ""},
                    )
                ],
            ),
            MethodResponses=[
                apigateway.MethodResponse(
                    StatusCode="200", ResponseParameters={key: False for key in headers}
                )
            ],
        )
    )


def add_gateway_responses(template: Template, api: apigateway.RestApi) -> list[apigateway.GatewayResponse]:
    """API Gateway's own 4xx/5xx answers (401 from the authorizer, ...) carry CORS headers too."""
    headers = {
        "gatewayresponse.header.Access-Control-Allow-Origin": "'*'",
        "gatewayresponse.header.Access-Control-Allow-Headers": f"'{CORS_HEADERS}'",
    }
    return [
        template.add_resource(
            apigateway.GatewayResponse(
                f"{kind.title().replace('_', '')}Response",
                RestApiId=Ref(api),
                ResponseType=kind,
                ResponseParameters=headers,
            )
        )
        for kind in ("DEFAULT_4XX", "DEFAULT_5XX")
    ]


def publish(
    template: Template, ctx: StackContext, *, api: apigateway.RestApi, parts: list[AWSObject]
) -> apigateway.Stage:
    """A Deployment named by a hash of the API's parts (so a change redeploys) and the stage's Stage."""
    digest = hashlib.sha256(
        json.dumps([[p.title, p.to_dict()] for p in parts], sort_keys=True).encode()
    ).hexdigest()[:12]
    deployment = template.add_resource(
        apigateway.Deployment(
            f"Deployment{digest}",
            RestApiId=Ref(api),
            Description=f"{ctx.stack_name} {digest}",
            DependsOn=sorted(p.title for p in parts if isinstance(p, apigateway.Method)),
        )
    )
    return template.add_resource(
        apigateway.Stage(
            "ApiStage",
            RestApiId=Ref(api),
            DeploymentId=Ref(deployment),
            StageName=ctx.stage.name,
            TracingEnabled=True,
        )
    )


def grant_invoke(template: Template, ctx: StackContext, *, api: apigateway.RestApi, imports: Imports) -> None:
    """Signed-in identities (infra's auth role) may call this API, and only this API."""
    template.add_resource(
        iam.PolicyType(
            "AuthRoleInvokeApi",
            PolicyName=ctx.name("invoke-notes-api"),
            Roles=[imports.auth_role_name],
            PolicyDocument=PolicyDocument(
                Version="2012-10-17",
                Statement=[
                    Statement(
                        Effect=Allow,
                        Action=[execute_api.Invoke],
                        Resource=[Sub(f"{PARTITION_REGION_ACCOUNT}:${{RestApi}}/*")],
                    )
                ],
            ),
        )
    )
