"""StackContext: names, exports, imports (borrowed infra), functions and their roles."""

from __future__ import annotations

import pytest
from awacs import sqs
from awacs.aws import Allow, Statement
from troposphere import Template

from stagewise.errors import UserError
from stagewise.stacks import StackContext, stack_name


def ctx_for(project, stage: str, service: str, **kwargs) -> StackContext:
    return StackContext(project=project, stage=project.stage(stage, kwargs.pop("overrides", None)),
                        service=project.service(service), **kwargs)


def test_names_exports_and_stack_names_carry_stage_and_app(project) -> None:
    ctx = ctx_for(project, "pr-12", "notes-api")
    template = Template()
    output = ctx.export(template, "RestApiId", "abc")

    assert ctx.name("notes") == "pr-12-notes-notes"
    assert stack_name(project, ctx.stage, "notes-api") == ctx.stack_name == "pr-12-notes-notes-api"
    assert output.to_dict()["Export"] == {"Name": "pr-12-notes-notes-api-RestApiId"}


def test_an_ephemeral_stage_imports_infra_from_dev_and_services_from_itself(project) -> None:
    ephemeral, dev = ctx_for(project, "pr-12", "notes-api"), ctx_for(project, "dev", "notes-api")

    assert ephemeral.import_value("infra", "TableArn").to_dict() == {"Fn::ImportValue": "dev-notes-infra-TableArn"}
    assert ephemeral.import_value("notes-api", "RestApiId").to_dict() == {
        "Fn::ImportValue": "pr-12-notes-notes-api-RestApiId"
    }
    assert dev.import_value("infra", "TableArn").to_dict() == {"Fn::ImportValue": "dev-notes-infra-TableArn"}


def test_an_import_of_an_unknown_service_or_a_bad_export_name_is_refused(project) -> None:
    ctx = ctx_for(project, "dev", "notes-api")
    with pytest.raises(Exception, match="unknown service 'nope'"):
        ctx.import_value("nope", "X")
    with pytest.raises(UserError, match="letters and digits"):
        ctx.export(Template(), "Table-Name", "x")


def test_a_function_gets_the_conventions_a_placeholder_artifact_and_its_own_log_group(project) -> None:
    ctx = ctx_for(project, "dev", "notes-api", overrides={"memory": "1024"})
    template = Template()
    ctx.function(template, "DoThing", handler="notes_api.api.handler", environment={"EXTRA": "1"}, timeout=30)
    resources = template.to_dict()["Resources"]
    props = resources["DoThing"]["Properties"]

    assert props["FunctionName"] == "dev-notes-notes-api-do-thing"
    assert (props["MemorySize"], props["Timeout"], props["Runtime"]) == (1024, 30, "python3.12")
    assert props["Code"] == {"S3Bucket": "stagewise-111111111111-us-east-1-artifacts",
                             "S3Key": "unbuilt/notes-api/DoThing.zip"}
    assert props["Environment"]["Variables"] == {
        "EXTRA": "1", "LOG_LEVEL": "DEBUG", "POWERTOOLS_METRICS_NAMESPACE": "notes",
        "POWERTOOLS_SERVICE_NAME": "notes-api", "STAGE": "dev",
    }
    assert resources["DoThing"]["Metadata"] == {"stagewise": {"service": "notes-api", "source": "services/notes-api"}}
    assert resources["DoThing"]["DependsOn"] == ["DoThingLogGroup"]
    assert resources["DoThingLogGroup"]["Properties"]["LogGroupName"] == "/aws/lambda/dev-notes-notes-api-do-thing"


def test_built_artifacts_replace_the_placeholder_and_bring_a_shared_layer(project) -> None:
    built = {"A": {"bucket": "bkt", "key": "artifacts/code-1.zip", "layer_key": "artifacts/deps-9.zip"},
             "B": {"bucket": "bkt", "key": "artifacts/code-1.zip", "layer_key": "artifacts/deps-9.zip"}}
    ctx = ctx_for(project, "dev", "notes-api", artifacts=built)
    template = Template()
    for logical_id in ("A", "B"):
        ctx.function(template, logical_id, handler="notes_api.api.handler")
    resources = template.to_dict()["Resources"]
    layers = {k: r for k, r in resources.items() if r["Type"] == "AWS::Lambda::LayerVersion"}

    assert resources["A"]["Properties"]["Code"] == {"S3Bucket": "bkt", "S3Key": "artifacts/code-1.zip"}
    assert len(layers) == 1
    (layer_id, layer), = layers.items()
    assert layer["Properties"]["Content"] == {"S3Bucket": "bkt", "S3Key": "artifacts/deps-9.zip"}
    assert resources["B"]["Properties"]["Layers"] == [{"Ref": layer_id}]


def test_a_functions_role_allows_its_own_logs_tracing_and_the_given_statements_only(project) -> None:
    ctx = ctx_for(project, "dev", "notes-api")
    template = Template()
    extra = Statement(Effect=Allow, Action=[sqs.SendMessage], Resource=["arn:aws:sqs:us-east-1:1:q"])
    ctx.function(template, "Worker", handler="notes_api.api.handler", statements=[extra])
    role = template.to_dict()["Resources"]["WorkerRole"]["Properties"]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]

    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert [s["Action"] for s in statements] == [
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
        ["sqs:SendMessage"],
    ]
    assert "log-group:/aws/lambda/dev-notes-notes-api-worker:*" in statements[0]["Resource"][0]["Fn::Sub"]


def test_function_mistakes_are_user_errors(project) -> None:
    ctx = ctx_for(project, "dev", "notes-api")
    with pytest.raises(UserError, match="<package>.<module>.<attribute>"):
        ctx.function(Template(), "F", handler="handler")
    with pytest.raises(UserError, match="Lambda allows 64"):
        ctx.function(Template(), "F" * 60, handler="a.b.c")
    with pytest.raises(UserError, match="looks like a secret"):
        ctx.function(Template(), "F", handler="a.b.c", environment={"STRIPE": "sk_test_abc123"})
