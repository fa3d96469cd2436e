"""Lambda functions the way the build, the provisioner and the local runtime expect them.

Data flow: a stack module calls `ctx.function(...)` → `add_function()` adds three
resources to its template: the `AWS::Logs::LogGroup` `/aws/lambda/<FunctionName>`,
the function's own `AWS::IAM::Role` (logs on that group, X-Ray, and only the
statements the stack passes in) and the `AWS::Lambda::Function` itself, following
"Lambda function conventions" in docs/architecture.md (Handler, Metadata.stagewise,
Runtime, MemorySize, Timeout, TracingConfig Active, Code from the build or a placeholder).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from awacs import logs as awacs_logs
from awacs import sts
from awacs import xray as awacs_xray
from awacs.aws import Allow, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Ref, Sub, Template, awslambda, iam
from troposphere import logs as cfn_logs

from stagewise.errors import UserError

FUNCTION_NAME_MAX = 64
LOG_RETENTION_DAYS = 14
PROTECTED_LOG_RETENTION_DAYS = 90
HANDLER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){2,}$")
LOGICAL_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]{0,200}$")
SECRET_VALUE = re.compile(r"(sk|rk|pk)_(live|test)_[A-Za-z0-9]+|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY")


@dataclass(frozen=True)
class FunctionSettings:
    """Everything `add_function` needs that does not come from the stack module."""

    function_name: str
    service: str
    source: str  # folder of the code, relative to the repository root
    runtime: str
    memory: int
    timeout: int
    log_retention_days: int
    code: Mapping[str, str | None]  # {"bucket", "key"} and, from a build, "layer_key" (shared dependencies)
    layer_name: str = ""  # LayerVersion name for the dependency layer, when the build made one
    environment: Mapping[str, Any] = field(default_factory=dict)  # defaults every function gets


def add_function(
    template: Template,
    logical_id: str,
    *,
    settings: FunctionSettings,
    handler: str,
    role: Any = None,
    statements: Sequence[Statement] = (),
    environment: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> awslambda.Function:
    """Add the function, its log group and (unless `role` is given) its own role; return the function."""
    _check(logical_id, handler, settings.function_name)
    variables = {**settings.environment, **(environment or {})}
    _check_no_secrets(logical_id, variables)
    log_group = template.add_resource(
        cfn_logs.LogGroup(
            f"{logical_id}LogGroup",
            LogGroupName=log_group_name(settings.function_name),
            RetentionInDays=settings.log_retention_days,
            DeletionPolicy="Delete",  # removing a stage removes its logs; retention bounds them meanwhile
            UpdateReplacePolicy="Delete",
        )
    )
    if role is None:
        role = add_function_role(
            template, logical_id, log_group_name=log_group_name(settings.function_name), statements=statements
        )
    elif statements:
        raise UserError(f"{logical_id}: pass either role= or statements=, not both (statements build the role)")
    role_arn = GetAtt(role, "Arn") if isinstance(role, iam.Role) else role
    props: dict[str, Any] = dict(
        FunctionName=settings.function_name,
        Handler=handler,
        Role=role_arn,
        Runtime=settings.runtime,
        MemorySize=settings.memory,
        Timeout=settings.timeout,
        TracingConfig=awslambda.TracingConfig(Mode="Active"),
        Code=awslambda.Code(S3Bucket=settings.code["bucket"], S3Key=settings.code["key"]),
        Environment=awslambda.Environment(Variables=dict(sorted(variables.items()))),
    )
    if description:
        props["Description"] = description
    layer_key = settings.code.get("layer_key")
    if layer_key:
        props["Layers"] = [Ref(dependency_layer(template, settings=settings, key=layer_key))]
    function = awslambda.Function(logical_id, DependsOn=[log_group.title], **props)
    function.Metadata = {"stagewise": {"service": settings.service, "source": settings.source}}
    return template.add_resource(function)


def add_function_role(
    template: Template, logical_id: str, *, log_group_name: str, statements: Sequence[Statement] = ()
) -> iam.Role:
    """A role for one function: write its own logs, send X-Ray traces, and `statements` — nothing else."""
    log_group_arn = Sub(f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{log_group_name}:*")
    base = [
        Statement(
            Sid="OwnLogs",
            Effect=Allow,
            Action=[awacs_logs.CreateLogStream, awacs_logs.PutLogEvents],
            Resource=[log_group_arn],
        ),
        # X-Ray's trace APIs take no resource: "*" is the only value AWS accepts here.
        Statement(
            Sid="Tracing",
            Effect=Allow,
            Action=[awacs_xray.PutTraceSegments, awacs_xray.PutTelemetryRecords],
            Resource=["*"],
        ),
    ]
    trust = PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(Effect=Allow, Principal=Principal("Service", "lambda.amazonaws.com"), Action=[sts.AssumeRole])
        ],
    )
    policy = iam.Policy(
        PolicyName=f"{logical_id}Policy",
        PolicyDocument=PolicyDocument(Version="2012-10-17", Statement=[*base, *statements]),
    )
    return template.add_resource(iam.Role(f"{logical_id}Role", AssumeRolePolicyDocument=trust, Policies=[policy]))


def dependency_layer(template: Template, *, settings: FunctionSettings, key: str) -> awslambda.LayerVersion:
    """The service's third-party wheels as one LayerVersion, shared by its functions (named by content)."""
    logical_id = f"Deps{hashlib.sha256(key.encode()).hexdigest()[:10]}Layer"
    if logical_id in template.resources:
        return template.resources[logical_id]
    return template.add_resource(
        awslambda.LayerVersion(
            logical_id,
            LayerName=settings.layer_name,
            Content=awslambda.Content(S3Bucket=settings.code["bucket"], S3Key=key),
            CompatibleRuntimes=[settings.runtime],
        )
    )


def log_group_name(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def kebab(logical_id: str) -> str:
    """`CreateAttachmentUrl` → `create-attachment-url` (a function name's last part)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", logical_id).lower()


def _check(logical_id: str, handler: str, function_name: str) -> None:
    if not LOGICAL_ID.match(logical_id):
        raise UserError(f"logical id '{logical_id}' must be letters and digits, starting with a letter")
    if not HANDLER.match(handler):
        raise UserError(f"{logical_id}: handler '{handler}' must be '<package>.<module>.<attribute>'")
    if len(function_name) > FUNCTION_NAME_MAX:
        raise UserError(
            f"{logical_id}: function name '{function_name}' is {len(function_name)} characters; Lambda allows "
            f"{FUNCTION_NAME_MAX}. Use a shorter logical id (pass name=) or a shorter stage name"
        )


def _check_no_secrets(logical_id: str, variables: Mapping[str, Any]) -> None:
    for key, value in variables.items():
        if isinstance(value, str) and SECRET_VALUE.search(value):
            raise UserError(
                f"{logical_id}: environment variable {key} holds what looks like a secret; store it in SSM "
                "Parameter Store (stagewise secrets set) and pass the parameter NAME instead"
            )
