"""The long-lived resources of a stage: notes table, uploads bucket, Cognito user and identity pools.

Data flow: `build(ctx)` → one troposphere Template whose exports (TableName, TableArn,
BucketName, BucketArn, UserPoolId, UserPoolArn, UserPoolClientId, IdentityPoolId,
AuthRoleName, AuthRoleArn) the services import. Ephemeral stages do not render this
stack: they import dev's exports (`infra_from = "dev"`).
"""

from __future__ import annotations

from awacs import s3 as awacs_s3
from awacs import sts
from awacs.aws import (
    Allow,
    Condition,
    ForAnyValueStringLike,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
)
from troposphere import GetAtt, Ref, Sub, Template, cognito, dynamodb, iam, s3

from stagewise.stacks import StackContext

IDENTITY = "cognito-identity.amazonaws.com"
CORS_METHODS = ["GET", "PUT", "POST", "DELETE", "HEAD"]
# Data outlives its stack (delete, removal from the template) but not a failed first create: what
# that create made holds nothing yet, and keeping it would block the retry on the table's fixed
# name ("already exists") or orphan a bucket/pool. CloudFormation has no such value for
# UpdateReplacePolicy: a replaced table or bucket is kept with plain Retain.
RETAIN = "RetainExceptOnCreate"
RETAIN_REPLACED = "Retain"


def build(ctx: StackContext) -> Template:
    template = Template(Description=f"{ctx.stack_name}: notes table, uploads bucket, user and identity pools")
    table = template.add_resource(notes_table(ctx))
    bucket = template.add_resource(uploads_bucket())
    pool = template.add_resource(user_pool(ctx))
    client = template.add_resource(user_pool_client(ctx, pool))
    identity_pool = template.add_resource(identity_pool_for(ctx, pool, client))
    role = template.add_resource(auth_role(bucket, identity_pool))
    template.add_resource(
        cognito.IdentityPoolRoleAttachment(
            "IdentityPoolRoles", IdentityPoolId=Ref(identity_pool), Roles={"authenticated": GetAtt(role, "Arn")}
        )
    )
    exports = {
        "TableName": Ref(table),
        "TableArn": GetAtt(table, "Arn"),
        "BucketName": Ref(bucket),
        "BucketArn": GetAtt(bucket, "Arn"),
        "UserPoolId": Ref(pool),
        "UserPoolArn": GetAtt(pool, "Arn"),
        "UserPoolClientId": Ref(client),
        "IdentityPoolId": Ref(identity_pool),
        "AuthRoleName": Ref(role),
        "AuthRoleArn": GetAtt(role, "Arn"),
    }
    for name, value in exports.items():
        ctx.export(template, name, value)
    return template


def notes_table(ctx: StackContext) -> dynamodb.Table:
    extra = {}
    if ctx.stage.protect:
        extra["PointInTimeRecoverySpecification"] = dynamodb.PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True
        )
    return dynamodb.Table(
        "NotesTable",
        TableName=ctx.name("notes"),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            dynamodb.AttributeDefinition(AttributeName="userId", AttributeType="S"),
            dynamodb.AttributeDefinition(AttributeName="noteId", AttributeType="S"),
        ],
        KeySchema=[
            dynamodb.KeySchema(AttributeName="userId", KeyType="HASH"),
            dynamodb.KeySchema(AttributeName="noteId", KeyType="RANGE"),
        ],
        DeletionPolicy=RETAIN,
        UpdateReplacePolicy=RETAIN_REPLACED,
        **extra,
    )


def uploads_bucket() -> s3.Bucket:
    """No BucketName: CloudFormation generates a globally unique one (it still carries the stack name)."""
    return s3.Bucket(
        "UploadsBucket",
        CorsConfiguration=s3.CorsConfiguration(
            CorsRules=[
                s3.CorsRules(
                    AllowedHeaders=["*"],
                    AllowedMethods=CORS_METHODS,
                    AllowedOrigins=["*"],
                    ExposedHeaders=["ETag"],
                    MaxAge=3000,
                )
            ]
        ),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
        ),
        DeletionPolicy=RETAIN,
        UpdateReplacePolicy=RETAIN_REPLACED,
    )


def user_pool(ctx: StackContext) -> cognito.UserPool:
    """Users survive removal of a protected stage (prod); a dev or preview stage's users go with it."""
    protect = ctx.stage.protect
    return cognito.UserPool(
        "UserPool",
        UserPoolName=ctx.name("users"),
        UsernameAttributes=["email"],
        AutoVerifiedAttributes=["email"],
        AdminCreateUserConfig=cognito.AdminCreateUserConfig(AllowAdminCreateUserOnly=False),
        DeletionPolicy=RETAIN if protect else "Delete",
        UpdateReplacePolicy=RETAIN_REPLACED if protect else "Delete",
    )


def user_pool_client(ctx: StackContext, pool: cognito.UserPool) -> cognito.UserPoolClient:
    return cognito.UserPoolClient(
        "UserPoolClient",
        ClientName=ctx.name("web"),
        UserPoolId=Ref(pool),
        GenerateSecret=False,
        ExplicitAuthFlows=[
            "ALLOW_USER_PASSWORD_AUTH",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_SRP_AUTH",
        ],
    )


def identity_pool_for(
    ctx: StackContext, pool: cognito.UserPool, client: cognito.UserPoolClient
) -> cognito.IdentityPool:
    return cognito.IdentityPool(
        "IdentityPool",
        IdentityPoolName=ctx.name("identities").replace("-", "_"),
        AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[
            cognito.CognitoIdentityProvider(ClientId=Ref(client), ProviderName=GetAtt(pool, "ProviderName"))
        ],
    )


def auth_role(bucket: s3.Bucket, identity_pool: cognito.IdentityPool) -> iam.Role:
    """The role signed-in users get: their own `private/<identity id>/` prefix of the bucket, nothing more."""
    trust = PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Federated", IDENTITY),
                Action=[sts.AssumeRoleWithWebIdentity],
                Condition=Condition(
                    [
                        StringEquals({f"{IDENTITY}:aud": Ref(identity_pool)}),
                        ForAnyValueStringLike({f"{IDENTITY}:amr": "authenticated"}),
                    ]
                ),
            )
        ],
    )
    own_files = Sub(f"${{{bucket.title}.Arn}}/private/${{!{IDENTITY}:sub}}/*")
    access = PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="OwnPrivateFiles",
                Effect=Allow,
                Action=[awacs_s3.GetObject, awacs_s3.PutObject, awacs_s3.DeleteObject],
                Resource=[own_files],
            )
        ],
    )
    return iam.Role(
        "AuthRole",
        AssumeRolePolicyDocument=trust,
        Policies=[iam.Policy(PolicyName="OwnPrivateFiles", PolicyDocument=access)],
    )
