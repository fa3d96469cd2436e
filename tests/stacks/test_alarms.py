"""Alarms where `alarms = true` (stagewise/stacks/alarms.py): prod has them and its alarm topic, dev
and PR stages have none; every function, the API's stage, every dead-letter queue and billing's
outbox are watched; every alarm notifies the stage's topic; subscribers come from stage variables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from troposphere import sqs

from stagewise.errors import UserError
from stagewise.stacks import deploy_phases, render_stage
from stagewise.stacks.alarms import (
    ALARMS_SERVICE,
    DLQ_MAX_AGE_SECONDS,
    LATENCY_P99_MS,
    OUTBOX_MAX_AGE_SECONDS,
    SERVER_ERROR_RATE,
    mark_outbox,
)
from tests.stacks.conftest import write_project

ALARM = "AWS::CloudWatch::Alarm"
TOPIC_IMPORT = {"Fn::ImportValue": "prod-notes-alarms-AlarmTopicArn"}


def alarms_of(templates: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(service, logical id) → alarm properties, over every template of a stage."""
    return {
        (service, lid): res["Properties"]
        for service, template in templates.items()
        for lid, res in template["Resources"].items()
        if res["Type"] == ALARM
    }


def of_type(templates: dict[str, dict[str, Any]], kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(s, lid, res) for s, t in templates.items() for lid, res in t["Resources"].items() if res["Type"] == kind]


def watching(alarms: dict, service: str, metric: str, dimension: str, value: Any) -> list[dict[str, Any]]:
    return [
        props for (svc, _), props in alarms.items()
        if svc == service and props["MetricName"] == metric
        and {"Name": dimension, "Value": value} in props["Dimensions"]
    ]


def test_prod_has_one_alarm_topic_named_with_its_stage(rendered) -> None:
    prod = rendered["prod"]
    topics = of_type({ALARMS_SERVICE: prod[ALARMS_SERVICE]}, "AWS::SNS::Topic")
    assert [res["Properties"]["TopicName"] for _, _, res in topics] == ["prod-notes-alarms"]
    assert prod[ALARMS_SERVICE]["Outputs"]["AlarmTopicArn"]["Export"]["Name"] == "prod-notes-alarms-AlarmTopicArn"
    # the topic's stack deploys before any stack whose alarms import it
    assert ALARMS_SERVICE in deploy_phases(prod)[0]


@pytest.mark.parametrize("stage", ["dev", "pr-12"])
def test_stages_without_alarms_get_no_alarm_and_no_topic(rendered, stage: str) -> None:
    templates = rendered[stage]
    assert ALARMS_SERVICE not in templates
    assert alarms_of(templates) == {}
    assert all("alarms" not in res["Properties"].get("TopicName", "") for _, _, res in
               of_type(templates, "AWS::SNS::Topic"))


def test_every_alarm_notifies_the_stage_topic_on_alarm_and_on_ok(rendered) -> None:
    alarms = alarms_of(rendered["prod"])
    assert len(alarms) > 10
    for (service, lid), props in alarms.items():
        assert props["AlarmActions"] == [TOPIC_IMPORT], f"{service}/{lid}"
        assert props["OKActions"] == [TOPIC_IMPORT], f"{service}/{lid}"
        assert props["AlarmName"].startswith(f"prod-notes-{service}-"), props["AlarmName"]
    assert len({props["AlarmName"] for props in alarms.values()}) == len(alarms)


def test_every_function_has_an_errors_and_a_throttles_alarm(rendered) -> None:
    prod = rendered["prod"]
    alarms = alarms_of(prod)
    functions = of_type(prod, "AWS::Lambda::Function")
    assert len(functions) >= 8
    for service, lid, _ in functions:
        for metric in ("Errors", "Throttles"):
            [props] = watching(alarms, service, metric, "FunctionName", {"Ref": lid})
            assert props["Namespace"] == "AWS/Lambda"
            assert (props["Statistic"], props["Period"], props["Threshold"]) == ("Sum", 300, 1)
            assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            assert props["TreatMissingData"] == "notBreaching"


def test_the_api_stage_has_a_5xx_rate_and_a_p99_latency_alarm(rendered) -> None:
    prod = rendered["prod"]
    alarms = alarms_of(prod)
    [(_, _, api)] = of_type(prod, "AWS::ApiGateway::RestApi")
    api_name = api["Properties"]["Name"]
    assert api_name == "prod-notes-api"
    dims = [{"Name": "ApiName", "Value": api_name}, {"Name": "Stage", "Value": "prod"}]
    [errors] = watching(alarms, "notes-api-stage", "5XXError", "ApiName", api_name)
    [latency] = watching(alarms, "notes-api-stage", "Latency", "ApiName", api_name)
    for props in (errors, latency):
        assert props["Namespace"] == "AWS/ApiGateway" and props["Dimensions"] == dims
    assert (errors["Statistic"], errors["Threshold"]) == ("Average", SERVER_ERROR_RATE)  # a rate: 0..1
    assert (latency["ExtendedStatistic"], latency["Threshold"]) == ("p99", LATENCY_P99_MS)
    assert "Statistic" not in latency


def test_the_dead_letter_queue_and_the_outbox_have_an_age_alarm(rendered) -> None:
    prod = rendered["prod"]
    alarms = alarms_of(prod)
    expected = {("notify-job", "NotifyDeadLetterQueue"): DLQ_MAX_AGE_SECONDS,
                ("billing-api", "OutboxQueue"): OUTBOX_MAX_AGE_SECONDS}
    queues = {(s, lid) for s, lid, _ in of_type(prod, "AWS::SQS::Queue")}
    assert set(expected) <= queues
    for (service, lid), limit in expected.items():
        [props] = watching(alarms, service, "ApproximateAgeOfOldestMessage", "QueueName",
                           {"Fn::GetAtt": [lid, "QueueName"]})
        assert (props["Namespace"], props["Statistic"], props["Threshold"]) == ("AWS/SQS", "Maximum", limit)
    age_alarms = [p for p in alarms.values() if p["MetricName"] == "ApproximateAgeOfOldestMessage"]
    assert len(age_alarms) == len(expected)  # a queue that is neither gets none


def test_billing_marks_its_outbox(rendered) -> None:
    outbox = rendered["dev"]["billing-api"]["Resources"]["OutboxQueue"]
    assert outbox["Metadata"]["stagewise"]["outbox"] == {"max_age_seconds": OUTBOX_MAX_AGE_SECONDS}


def test_the_alarm_stacks_are_cfn_lint_clean(rendered, lint_results) -> None:
    for service in rendered["prod"]:
        problems = [str(m) for m in lint_results[("prod", service)] if m.rule.id[0] in "EW"]
        assert problems == [], service


# --- subscribers from stage variables -------------------------------------------------------------

def test_subscribers_come_from_alarm_emails_and_alarm_phones(project) -> None:
    stage = project.stage("prod", {"vars.alarm_emails": "ops@example.com, oncall@example.com",
                                   "vars.alarm_phones": "+15555550123"})
    subs = of_type({"a": render_stage(project, stage)[ALARMS_SERVICE]}, "AWS::SNS::Subscription")
    endpoints = sorted((res["Properties"]["Protocol"], res["Properties"]["Endpoint"]) for _, _, res in subs)
    assert endpoints == [("email", "oncall@example.com"), ("email", "ops@example.com"), ("sms", "+15555550123")]
    assert all(res["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"} for _, _, res in subs)


@pytest.mark.parametrize(("var", "value"), [("alarm_emails", "ops@example.com,not-an-email"),
                                             ("alarm_phones", "5555550123"), ("alarm_phones", 5)])
def test_a_bad_subscriber_is_one_line_naming_the_variable(project, var: str, value: Any) -> None:
    with pytest.raises(UserError) as err:
        render_stage(project, project.stage("prod", {f"vars.{var}": value}))
    assert var in str(err.value) and "[stages.prod.vars]" in str(err.value)


# --- the toolkit on any app: derived from the templates, nothing named ----------------------------

APP = {
    "queues": """
        from troposphere import GetAtt, Template, sqs
        from stagewise.stacks.alarms import mark_outbox
        def build(ctx):
            t = Template()
            dlq = t.add_resource(sqs.Queue("Failed", QueueName=ctx.name("failed")))
            t.add_resource(sqs.Queue("Work", QueueName=ctx.name("work"),
                           RedrivePolicy=sqs.RedrivePolicy(deadLetterTargetArn=GetAtt(dlq, "Arn"), maxReceiveCount=3)))
            t.add_resource(sqs.Queue("Plain", QueueName=ctx.name("plain")))
            t.add_resource(mark_outbox(sqs.Queue("Pending", QueueName=ctx.name("pending")), max_age_seconds=120))
            t.add_resource(sqs.Queue("SubDlq", QueueName=ctx.name("sub-dlq")))
            ctx.export(t, "SubDlqArn", GetAtt("SubDlq", "Arn"))
            return t
    """,
    "fanout": """
        from troposphere import Template, sns
        def build(ctx):
            t = Template()
            topic = t.add_resource(sns.Topic("Events", TopicName=ctx.name("events")))
            t.add_resource(sns.SubscriptionResource("ToElsewhere", TopicArn=topic.ref(), Protocol="https",
                           Endpoint="https://example.com/hook",
                           RedrivePolicy={"deadLetterTargetArn": ctx.import_value("queues", "SubDlqArn")}))
            return t
    """,
}


@pytest.fixture
def app(tmp_path: Path):
    return write_project(tmp_path, APP)


def test_dead_letter_queues_are_found_through_getatt_and_imports_and_outboxes_by_mark(app) -> None:
    templates = render_stage(app, app.stage("dev", {"alarms": True}))
    alarms = alarms_of(templates)
    ages = {svc_lid: p["Threshold"] for svc_lid, p in alarms.items() if p["MetricName"] == "ApproximateAgeOfOldestMessage"}
    assert ages == {("queues", "FailedAgeAlarm"): DLQ_MAX_AGE_SECONDS,     # a queue's RedrivePolicy
                    ("queues", "SubDlqAgeAlarm"): DLQ_MAX_AGE_SECONDS,     # another stack's subscription, imported
                    ("queues", "PendingAgeAlarm"): 120}                    # marked outbox, its own limit
    assert alarms[("queues", "SubDlqAgeAlarm")]["AlarmActions"] == [{"Fn::ImportValue": "dev-demo-alarms-AlarmTopicArn"}]
    assert "fanout" in templates and not any(s == "fanout" for s, _ in alarms)  # nothing to watch there
    assert not any("Fn::ImportValue" in str(r) and "alarms" in str(r)
                   for r in templates["fanout"]["Resources"].values())
    from cfnlint.api import ManualArgs, lint

    for service in ("queues", ALARMS_SERVICE):
        problems = lint(json.dumps(templates[service]), config=ManualArgs(regions=["us-east-1"]))
        assert [str(m) for m in problems if m.rule.id[0] in "EW"] == [], service


def test_the_same_app_without_alarms_is_untouched(app) -> None:
    assert render_stage(app, app.stage("dev")) == render_stage(app, app.stage("dev", {"alarms": False}))
    assert alarms_of(render_stage(app, app.stage("dev"))) == {}


def test_a_service_named_alarms_collides_only_when_alarms_are_on(tmp_path: Path) -> None:
    app = write_project(tmp_path, {"alarms": "from troposphere import Template\ndef build(ctx):\n    return Template()\n"})
    render_stage(app, app.stage("dev"))
    with pytest.raises(UserError, match="collides"):
        render_stage(app, app.stage("dev", {"alarms": True}))


def test_mark_outbox_keeps_other_metadata_and_refuses_a_limit_below_a_minute() -> None:
    queue = sqs.Queue("Q", Metadata={"stagewise": {"other": 1}, "mine": True})
    assert mark_outbox(queue).to_dict()["Metadata"] == {
        "stagewise": {"other": 1, "outbox": {"max_age_seconds": OUTBOX_MAX_AGE_SECONDS}}, "mine": True}
    with pytest.raises(ValueError, match="at least 60"):
        mark_outbox(sqs.Queue("R"), max_age_seconds=30)
