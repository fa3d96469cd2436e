"""notify-job: a function subscribed to billing-api's note-purchased topic that texts the admin.

Data flow: `build(ctx)` imports the topic ARN (`NotePurchasedTopicArn`) from billing-api and
subscribes the Notify function to it (`AWS::SNS::Subscription`, protocol lambda) with a
`Lambda::Permission` that lets only that topic invoke it. SNS invokes asynchronously: the
`EventInvokeConfig` keeps Lambda's two retries, and after them the event lands in the function's
SQS dead-letter queue (`DeadLetterConfig`). The admin's phone is the stage variable
`admin_phone` (`[defaults.vars]` / `[stages.<name>.vars]` in stagewise.toml), passed as ADMIN_PHONE.

IAM: SNS authorizes a publish to a phone number against `Resource: "*"` (a phone number has no
ARN), so the role allows `sns:Publish` on "*" and explicitly denies it on every topic and
endpoint ARN (`arn:<partition>:sns:*`): the only publish left is an SMS.
"""

from __future__ import annotations

import re

from awacs import sns as awacs_sns
from awacs import sqs as awacs_sqs
from awacs.aws import Allow, Deny, Statement
from troposphere import GetAtt, Ref, Sub, Template, awslambda, sns, sqs

from stagewise.errors import UserError
from stagewise.stacks import StackContext
from stagewise.stacks.api import add_invoke_permission

SECRETS: tuple[str, ...] = ()
MAX_RETRY_ATTEMPTS = 2  # Lambda's default for async events, stated so it cannot drift
MAX_EVENT_AGE_SECONDS = 6 * 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def build(ctx: StackContext) -> Template:
    phone = ctx.stage.vars.get("admin_phone")
    table = "[ephemeral.vars]" if ctx.stage.ephemeral else f"[stages.{ctx.stage.name}.vars]"
    if not phone:
        raise UserError(
            f"stage '{ctx.stage.name}' has no admin_phone; set admin_phone = \"+1...\" under [defaults.vars] or "
            f"{table} in stagewise.toml (notify-job texts it on every purchase)"
        )
    if not isinstance(phone, str) or not E164.match(phone):
        raise UserError(
            f"stage '{ctx.stage.name}': admin_phone {phone!r} is not an E.164 number; write it as \"+15555550100\" "
            f"(a quoted string) under [defaults.vars] or {table} in stagewise.toml"
        )
    template = Template(Description=f"{ctx.stack_name}: text the admin on every note purchase")
    topic_arn = ctx.import_value("billing-api", "NotePurchasedTopicArn")
    dead_letters = template.add_resource(
        sqs.Queue("NotifyDeadLetterQueue", QueueName=ctx.name("notify-dlq"), MessageRetentionPeriod=DLQ_RETENTION_SECONDS)
    )
    function = ctx.function(
        template,
        "Notify",
        handler="notify_job.handler.handler",
        environment=ctx.vars_environment("admin_phone"),
        statements=sms_only() + [
            Statement(Sid="DeadLetters", Effect=Allow, Action=[awacs_sqs.SendMessage], Resource=[GetAtt(dead_letters, "Arn")])
        ],
        description="SMS 'Charged <amount> for <description>' to the admin",
    )
    function.DeadLetterConfig = awslambda.DeadLetterConfig(TargetArn=GetAtt(dead_letters, "Arn"))
    template.add_resource(
        awslambda.EventInvokeConfig(
            "NotifyInvokeConfig",
            FunctionName=Ref(function),
            Qualifier="$LATEST",
            MaximumRetryAttempts=MAX_RETRY_ATTEMPTS,
            MaximumEventAgeInSeconds=MAX_EVENT_AGE_SECONDS,
        )
    )
    add_invoke_permission(template, function=function, principal="sns.amazonaws.com", source_arn=topic_arn)
    template.add_resource(
        sns.SubscriptionResource(
            "NotifySubscription",
            Protocol="lambda",
            TopicArn=topic_arn,
            Endpoint=GetAtt(function, "Arn"),
            DependsOn=["NotifyInvokePermission"],
        )
    )
    ctx.export(template, "DeadLetterQueueUrl", Ref(dead_letters))
    return template


def sms_only() -> list[Statement]:
    """sns:Publish to phone numbers only: allowed on "*", denied on every topic / endpoint ARN."""
    return [
        Statement(Sid="SendSms", Effect=Allow, Action=[awacs_sns.Publish], Resource=["*"]),
        Statement(
            Sid="NoTopicOrEndpointPublish",
            Effect=Deny,
            Action=[awacs_sns.Publish],
            Resource=[Sub("arn:${AWS::Partition}:sns:*")],
        ),
    ]
