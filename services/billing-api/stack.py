"""billing-api: `POST /billing` on notes-api's REST API, its topic, idempotency table and outbox.

Data flow: `build(ctx)` imports the stage's REST API (`RestApiId`, `RootResourceId`) from
notes-api — no second API — and adds the `billing` resource with an AWS_IAM-authorized AWS_PROXY
`POST` (the caller signs with their Cognito identity's credentials; notes-api's invoke policy on
the stage covers it) and a MOCK `OPTIONS` preflight. No
Deployment: the stack the toolkit generates for notes-api's published API deploys after this
one and snapshots every route, `/billing` included (stagewise/stacks/publish.py). The Billing function reads its Stripe key from SSM by NAME
(`/<app>/<stage>/STRIPE_SECRET_KEY`), publishes to the `<stage>-note-purchased` topic
(exported as NotePurchasedTopicArn for notify-job), stores idempotency records in its own table
and keeps unpublished purchases in the outbox queue; OutboxDrain republishes them on demand.

`SECRETS` names the secrets this service's functions read; a deploy checks the stage has them
(`stagewise.secrets.SecretStore.resolve`) before touching any stack.
"""

from __future__ import annotations

from awacs import dynamodb as ddb
from awacs import kms, ssm
from awacs import sns as awacs_sns
from awacs import sqs as awacs_sqs
from awacs.aws import Allow, Condition, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub, Template, awslambda, dynamodb, sns, sqs

from stagewise.stacks import StackContext
from stagewise.stacks.alarms import mark_outbox
from stagewise.stacks.api import (
    DEFAULT_CORS_HEADERS,
    Iam,
    add_api_permission,
    add_cors_preflight,
    add_method,
    add_resources,
    api_origin,
)

SECRETS = ("STRIPE_SECRET_KEY",)
STRIPE_SECRET = SECRETS[0]
OUTBOX_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's maximum: two weeks to get SNS back
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"  # the attribute Powertools Idempotency writes
# A browser may send Powertools Idempotency's key (billing_api.api.IDEMPOTENCY_HEADER) too.
CORS_HEADERS = (*DEFAULT_CORS_HEADERS, "Idempotency-Key")


def secret_parameter(ctx: StackContext, stage: str, name: str = STRIPE_SECRET) -> str:
    """The SSM parameter NAME of a secret (`/<app>/<stage>/<NAME>`), never its value."""
    return f"/{ctx.app}/{stage}/{name}"


def parameter_arn(parameter: str) -> Sub:
    return Sub(f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter{parameter}")


def build(ctx: StackContext) -> Template:
    template = Template(Description=f"{ctx.stack_name}: POST /billing, the note-purchased topic and its outbox")
    topic = template.add_resource(sns.Topic("NotePurchasedTopic", TopicName=ctx.name("note-purchased")))
    table = template.add_resource(idempotency_table(ctx))
    outbox = template.add_resource(
        mark_outbox(  # where alarms are on, a purchase left unpublished here for 15 minutes raises one
            sqs.Queue("OutboxQueue", QueueName=ctx.name("billing-outbox"), MessageRetentionPeriod=OUTBOX_RETENTION_SECONDS)
        )
    )
    parameters = [secret_parameter(ctx, ctx.stage.name)]
    if ctx.stage.secrets_from:
        parameters.append(secret_parameter(ctx, ctx.stage.secrets_from))
    origin = ctx.stage.vars.get("cors_origin") or api_origin(ctx.import_value("notes-api", "RestApiId"))
    environment = {
        "CORS_ORIGIN": origin,
        "TOPIC_ARN": Ref(topic),
        "STRIPE_SECRET_PARAMETER": parameters[0],
        "IDEMPOTENCY_TABLE": Ref(table),
        "OUTBOX_QUEUE_URL": Ref(outbox),
    }
    if len(parameters) > 1:
        environment["STRIPE_SECRET_FALLBACK_PARAMETER"] = parameters[1]
    function = ctx.function(
        template,
        "Billing",
        handler="billing_api.api.handler",
        environment=environment,
        statements=billing_statements(ctx, parameters=parameters, topic=topic, table=table, outbox=outbox),
        description="POST /billing",
    )
    ctx.function(
        template,
        "OutboxDrain",
        handler="billing_api.outbox.handler",
        environment={k: v for k, v in environment.items() if k in ("TOPIC_ARN", "OUTBOX_QUEUE_URL")},
        statements=[publish_to(topic), consume(outbox)],
        description="Republish purchases kept in the outbox",
    )
    add_route(template, ctx, function=function, origin=origin)
    ctx.export(template, "NotePurchasedTopicArn", Ref(topic))
    return template


def idempotency_table(ctx: StackContext) -> dynamodb.Table:
    """Powertools Idempotency's table: `id` HASH, records expire through TTL on `expiration`."""
    return dynamodb.Table(
        "IdempotencyTable",
        TableName=ctx.name("billing-idempotency"),
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[dynamodb.AttributeDefinition(AttributeName="id", AttributeType="S")],
        KeySchema=[dynamodb.KeySchema(AttributeName="id", KeyType="HASH")],
        TimeToLiveSpecification=dynamodb.TimeToLiveSpecification(AttributeName=IDEMPOTENCY_TTL_ATTRIBUTE, Enabled=True),
    )


def billing_statements(
    ctx: StackContext, *, parameters: list[str], topic: sns.Topic, table: dynamodb.Table, outbox: sqs.Queue
) -> list[Statement]:
    """Read its own secret, publish to its own topic, use its own table and outbox — nothing else."""
    return [
        Statement(Sid="ReadStripeKey", Effect=Allow, Action=[ssm.GetParameter], Resource=[parameter_arn(p) for p in parameters]),
        Statement(
            Sid="DecryptThroughSsmOnly",
            Effect=Allow,
            Action=[kms.Decrypt],
            Resource=[Sub("arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*")],
            Condition=Condition(StringEquals("kms:ViaService", Sub("ssm.${AWS::Region}.amazonaws.com"))),
        ),
        publish_to(topic),
        Statement(
            Sid="IdempotencyRecords",
            Effect=Allow,
            Action=[ddb.GetItem, ddb.PutItem, ddb.UpdateItem, ddb.DeleteItem],
            Resource=[GetAtt(table, "Arn")],
        ),
        Statement(Sid="KeepInOutbox", Effect=Allow, Action=[awacs_sqs.SendMessage], Resource=[GetAtt(outbox, "Arn")]),
        consume(outbox),
    ]


def publish_to(topic: sns.Topic) -> Statement:
    return Statement(Sid="PublishPurchases", Effect=Allow, Action=[awacs_sns.Publish], Resource=[Ref(topic)])


def consume(outbox: sqs.Queue) -> Statement:
    return Statement(
        Sid="DrainOutbox",
        Effect=Allow,
        Action=[awacs_sqs.ReceiveMessage, awacs_sqs.DeleteMessage, awacs_sqs.ChangeMessageVisibility],
        Resource=[GetAtt(outbox, "Arn")],
    )


def add_route(template: Template, ctx: StackContext, *, function: awslambda.Function, origin: object) -> None:
    """`/billing` on the imported API: POST (AWS_IAM, AWS_PROXY), OPTIONS preflight, permission."""
    api_id = ctx.import_value("notes-api", "RestApiId")
    root = ctx.import_value("notes-api", "RootResourceId")
    resource = add_resources(template, api=api_id, paths=["billing"], root=root)["billing"]
    add_method(template, api=api_id, resource=resource, http_method="POST", function=function, authorization=Iam())
    add_cors_preflight(template, api=api_id, resource=resource, verbs=["POST"], headers=CORS_HEADERS, origin=origin)
    add_api_permission(template, api=api_id, http_method="POST", path="billing", function=function)

