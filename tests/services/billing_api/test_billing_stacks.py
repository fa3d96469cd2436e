"""The billing-api and notify-job stacks, rendered for a named and a short-lived stage.

The repository manifest may not list these services yet, so the tests render them from a
manifest of their own over the real folders; the rules are the ones tests/stacks applies to
every template (cfn-lint clean, least privilege, imports resolve, no secret values).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stagewise.config import Project, parse_project
from stagewise.stacks import deploy_phases, exports_of, imports_of, render_stage
from stagewise.stacks.functions import SECRET_VALUE

REPO = Path(__file__).resolve().parents[3]
MANIFEST = {
    "app": {"name": "notes", "region": "us-east-1", "runtime": "python3.12"},
    "services": {
        "infra": {"path": "infra", "infra": True},
        "notes-api": "services/notes-api",
        "billing-api": "services/billing-api",
        "notify-job": "services/notify-job",
    },
    "accounts": {"dev": {"id": "111111111111"}, "prod": {"id": "222222222222"}},
    "defaults": {"account": "dev", "vars": {"admin_phone": "+15555550100"}},
    "stages": {"dev": {}, "prod": {"account": "prod", "vars": {"admin_phone": "+15555550199"}}},
    "ephemeral": {"inherits": "dev", "infra_from": "dev", "secrets_from": "dev"},
}


@pytest.fixture(scope="module")
def project() -> Project:
    return parse_project(MANIFEST, root=REPO, file=REPO / "stagewise.toml")


@pytest.fixture(scope="module")
def rendered(project: Project) -> dict[str, dict[str, Any]]:
    return {stage: render_stage(project, project.stage(stage)) for stage in ("dev", "prod", "pr-7")}


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == kind}


def statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]


@pytest.mark.parametrize("stage", ["dev", "pr-7"])
@pytest.mark.parametrize("service", ["billing-api", "notify-job"])
def test_cfn_lint_finds_no_errors_or_warnings(rendered: dict[str, dict[str, Any]], stage: str, service: str) -> None:
    from cfnlint.api import ManualArgs, lint

    problems = lint(json.dumps(rendered[stage][service]), config=ManualArgs(regions=["us-east-1"]))
    assert [str(p) for p in problems if p.rule.id[0] in "EW"] == []


def test_deploy_order_follows_the_imports(rendered: dict[str, dict[str, Any]]) -> None:
    assert deploy_phases(rendered["dev"]) == [
        ["infra"], ["notes-api"], ["billing-api"], ["notes-api-stage", "notify-job"]]


def test_billing_adds_its_route_to_notes_apis_api(rendered: dict[str, dict[str, Any]]) -> None:
    template = rendered["dev"]["billing-api"]
    assert resources_of(template, "AWS::ApiGateway::RestApi") == {}
    assert imports_of(template) == {
        "dev-notes-notes-api-RestApiId",
        "dev-notes-notes-api-RootResourceId",
    }
    methods = resources_of(template, "AWS::ApiGateway::Method")
    post = methods["BillingMethod"]
    assert (post["HttpMethod"], post["AuthorizationType"]) == ("POST", "AWS_IAM")
    assert "AuthorizerId" not in post
    assert post["Integration"]["Type"] == "AWS_PROXY"
    assert methods["BillingOptions"]["HttpMethod"] == "OPTIONS"
    allowed = methods["BillingOptions"]["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
    assert allowed["method.response.header.Access-Control-Allow-Headers"] == (
        "'Content-Type,Authorization,X-Amz-Date,X-Api-Key,X-Amz-Security-Token,Idempotency-Key'")
    # notes-api-stage (generated) owns the API's Deployment and Stage, after billing's routes
    assert resources_of(template, "AWS::ApiGateway::Deployment") == resources_of(template, "AWS::ApiGateway::Stage") == {}
    (permission,) = resources_of(template, "AWS::Lambda::Permission").values()
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"][0].endswith("/*/POST/billing")


def test_billing_function_gets_names_never_the_key(rendered: dict[str, dict[str, Any]]) -> None:
    variables = resources_of(rendered["dev"]["billing-api"], "AWS::Lambda::Function")["Billing"]["Environment"]["Variables"]
    assert variables["STRIPE_SECRET_PARAMETER"] == "/notes/dev/STRIPE_SECRET_KEY"
    assert "STRIPE_SECRET_FALLBACK_PARAMETER" not in variables
    assert variables["POWERTOOLS_SERVICE_NAME"] == "billing-api"
    assert {"TOPIC_ARN", "IDEMPOTENCY_TABLE", "OUTBOX_QUEUE_URL", "STAGE", "LOG_LEVEL"} <= set(variables)
    for stage in rendered.values():
        for template in stage.values():
            assert not SECRET_VALUE.search(json.dumps(template))


def test_a_short_lived_stage_may_fall_back_to_devs_key(rendered: dict[str, dict[str, Any]]) -> None:
    template = rendered["pr-7"]["billing-api"]
    variables = resources_of(template, "AWS::Lambda::Function")["Billing"]["Environment"]["Variables"]
    assert variables["STRIPE_SECRET_PARAMETER"] == "/notes/pr-7/STRIPE_SECRET_KEY"
    assert variables["STRIPE_SECRET_FALLBACK_PARAMETER"] == "/notes/dev/STRIPE_SECRET_KEY"
    read = next(s for s in statements(template, "BillingRole") if s["Sid"] == "ReadStripeKey")
    assert [r["Fn::Sub"].rsplit(":parameter", 1)[1] for r in read["Resource"]] == [
        "/notes/pr-7/STRIPE_SECRET_KEY",
        "/notes/dev/STRIPE_SECRET_KEY",
    ]


def test_billing_role_is_least_privilege(rendered: dict[str, dict[str, Any]]) -> None:
    template = rendered["prod"]["billing-api"]
    granted = {s["Sid"]: s for s in statements(template, "BillingRole")}
    assert granted["ReadStripeKey"]["Action"] == ["ssm:GetParameter"]
    assert granted["ReadStripeKey"]["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/notes/prod/STRIPE_SECRET_KEY"}
    ]
    assert granted["DecryptThroughSsmOnly"]["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}
    }
    assert granted["PublishPurchases"] == {
        "Sid": "PublishPurchases", "Effect": "Allow", "Action": ["sns:Publish"], "Resource": [{"Ref": "NotePurchasedTopic"}]
    }
    assert sorted(granted["IdempotencyRecords"]["Action"]) == [
        "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"
    ]
    assert granted["IdempotencyRecords"]["Resource"] == [{"Fn::GetAtt": ["IdempotencyTable", "Arn"]}]
    for statement in statements(template, "BillingRole"):
        assert statement["Resource"] != ["*"] or statement["Sid"] == "Tracing", statement


def test_billing_exports_its_topic_named_after_the_stage(rendered: dict[str, dict[str, Any]]) -> None:
    template = rendered["prod"]["billing-api"]
    assert resources_of(template, "AWS::SNS::Topic")["NotePurchasedTopic"]["TopicName"] == "prod-notes-note-purchased"
    assert exports_of(template) == {
        "prod-notes-billing-api-NotePurchasedTopicArn", "prod-notes-billing-api-ApiRoutesNotesApi"}
    table = resources_of(template, "AWS::DynamoDB::Table")["IdempotencyTable"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_the_stack_declares_the_secrets_it_needs(project: Project) -> None:
    from stagewise.stacks import load_stack_module

    assert load_stack_module(project.service("billing-api")).SECRETS == ("STRIPE_SECRET_KEY",)
    assert load_stack_module(project.service("notify-job")).SECRETS == ()


def test_notify_is_subscribed_to_the_imported_topic_with_retries_and_a_dlq(rendered: dict[str, dict[str, Any]]) -> None:
    template = rendered["prod"]["notify-job"]
    topic = {"Fn::ImportValue": "prod-notes-billing-api-NotePurchasedTopicArn"}
    (subscription,) = resources_of(template, "AWS::SNS::Subscription").values()
    assert (subscription["Protocol"], subscription["TopicArn"]) == ("lambda", topic)
    (permission,) = resources_of(template, "AWS::Lambda::Permission").values()
    assert (permission["Principal"], permission["SourceArn"]) == ("sns.amazonaws.com", topic)
    function = resources_of(template, "AWS::Lambda::Function")["Notify"]
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": ["NotifyDeadLetterQueue", "Arn"]}}
    assert function["Environment"]["Variables"]["ADMIN_PHONE"] == "+15555550199"
    (invoke,) = resources_of(template, "AWS::Lambda::EventInvokeConfig").values()
    assert invoke["MaximumRetryAttempts"] == 2


def test_notify_may_only_text_phones_and_feed_its_dlq(rendered: dict[str, dict[str, Any]]) -> None:
    granted = {s["Sid"]: s for s in statements(rendered["dev"]["notify-job"], "NotifyRole")}
    assert granted["SendSms"]["Resource"] == ["*"]
    assert granted["NoTopicOrEndpointPublish"] == {
        "Sid": "NoTopicOrEndpointPublish",
        "Effect": "Deny",
        "Action": ["sns:Publish"],
        "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:sns:*"}],
    }
    assert granted["DeadLetters"]["Resource"] == [{"Fn::GetAtt": ["NotifyDeadLetterQueue", "Arn"]}]


def test_a_stage_without_admin_phone_is_refused_naming_the_setting() -> None:
    from stagewise.errors import UserError

    manifest = {**MANIFEST, "defaults": {"account": "dev"}}
    project = parse_project(manifest, root=REPO, file=REPO / "stagewise.toml")
    with pytest.raises(UserError, match="admin_phone"):
        render_stage(project, project.stage("dev"))
