"""notes-api: the stage's REST API and one least-privilege function per route.

Data flow: `build(ctx)` reads the table, bucket and auth role from infra's exports
(`ctx.import_value("infra", ...)`), declares every route in ROUTES (method, path, function,
IAM statements), and turns each into a Lambda function with its own role, an
`AWS::ApiGateway::Method` (AWS_PROXY, AWS_IAM), and a `Lambda::Permission` for exactly
that route. Authorization is the seed's: clients sign in to the user pool, get their Cognito
identity's credentials from the identity pool and sign each request (SigV4); infra's auth role —
the identity pool's authenticated role — is granted `execute-api:Invoke` on this stage of this
API only (`grant_invoke`). CORS preflight (MOCK OPTIONS methods, the toolkit's default allowed
headers, X-Amz-Date and X-Amz-Security-Token among them) and gateway responses make the API
usable from a browser. `publish_api` marks it for the generated `notes-api-stage` stack (its
Deployment and Stage). Exports: RestApiId, RootResourceId, ApiUrl.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from awacs import dynamodb as ddb
from awacs import execute_api
from awacs import s3 as awacs_s3
from awacs.aws import Action, Allow, PolicyDocument, Statement
from troposphere import GetAtt, ImportValue, Join, Template, apigateway, awslambda, iam

from stagewise.stacks import StackContext
from stagewise.stacks.api import (
    Iam,
    add_cors_gateway_responses,
    add_cors_preflight,
    add_resources,
    add_route,
    api_origin,
    execute_api_arn,
    publish_api,
)

HANDLER = "notes_api.api.handler"

Grant = Callable[["Imports"], list[Statement]]


@dataclass(frozen=True)
class Imports:
    """What this stack reads from infra."""

    table_name: ImportValue
    table_arn: ImportValue
    bucket_name: ImportValue
    bucket_arn: ImportValue
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
    resources = add_resources(template, api=api, paths={route.path for route in ROUTES})
    origin = cors_origin(ctx, api)
    signed_in = Iam()  # a SigV4-signed request of a Cognito identity the invoke policy below allows
    for route in ROUTES:
        function = add_route_function(template, ctx, route, imports, origin=origin)
        add_route(
            template,
            api=api,
            resource=resources[route.path],
            path=route.path,
            http_method=route.method,
            function=function,
            authorization=signed_in,
        )
    for path, resource in sorted(resources.items()):
        verbs = sorted({r.method for r in ROUTES if r.path == path})
        if verbs:
            add_cors_preflight(template, api=api, resource=resource, verbs=verbs, origin=origin)
    # 403 for a missing or bad signature, ... readable by the stage's browser app
    add_cors_gateway_responses(template, api=api, origin=origin)
    grant_invoke(template, ctx, api=api, imports=imports)
    publish_api(ctx, template, api, TracingEnabled=True)  # exports RestApiId
    ctx.export(template, "RootResourceId", GetAtt(api, "RootResourceId"))
    return template


def cors_origin(ctx: StackContext, api: object) -> object:
    """The origin whose pages may call the API: the stage variable `cors_origin` (the web app's), else
    the API's own (no other page may read its answers); never `*`."""
    return ctx.stage.vars.get("cors_origin") or api_origin(api)


def add_route_function(
    template: Template, ctx: StackContext, route: Route, imports: Imports, *, origin: object
) -> awslambda.Function:
    statements = [statement for grant in route.grants for statement in grant(imports)]
    return ctx.function(
        template,
        route.function,
        handler=HANDLER,
        statements=statements,
        environment={"TABLE_NAME": imports.table_name, "BUCKET_NAME": imports.bucket_name, "CORS_ORIGIN": origin},
        description=f"{route.method} /{route.path}",
    )


def grant_invoke(template: Template, ctx: StackContext, *, api: apigateway.RestApi, imports: Imports) -> None:
    """Signed-in identities (infra's auth role) may call this stage of this API, and nothing else.

    `<api id>/<stage>/*`: every method and path of the stage, every route another stack adds
    (billing-api's) included. A feature stage shares dev's infra, so dev's auth role gets one
    such policy per stage: each names only its own API and stage.
    """
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
                        Resource=[execute_api_arn(api, f"{ctx.stage.name}/*")],
                    )
                ],
            ),
        )
    )
