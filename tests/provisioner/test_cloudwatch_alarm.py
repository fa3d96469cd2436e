"""AWS::CloudWatch::Alarm through the local provisioner, and the app's prod stage (alarms = true)
deployed into moto: its alarms exist, notify the stage's topic, and can be put into ALARM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stagewise.config import Project, parse_project
from stagewise.provisioner import Provisioner
from stagewise.stacks import deploy_phases, render_stage, stack_name
from tests.provisioner.conftest import ACCOUNT, REGION, CallLog

REPO = Path(__file__).resolve().parents[2]


def alarm_template(**changes: Any) -> dict[str, Any]:
    props = {
        "AlarmName": "dev-app-fn-Errors",
        "AlarmDescription": "errors",
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": "FunctionName", "Value": "dev-app-fn"}],
        "Statistic": "Sum",
        "Period": 300,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [{"Ref": "Topic"}],
        "OKActions": [{"Ref": "Topic"}],
        **changes,
    }
    return {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "dev-app-alarms"}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {k: v for k, v in props.items() if v is not None}},
        },
        "Outputs": {"AlarmArn": {"Value": {"Fn::GetAtt": ["Alarm", "Arn"]}}, "AlarmRef": {"Value": {"Ref": "Alarm"}}},
    }


def alarms(cloud: Any, **kwargs: Any) -> dict[str, dict[str, Any]]:
    return {a["AlarmName"]: a for a in cloud.client("cloudwatch").describe_alarms(**kwargs)["MetricAlarms"]}


def test_create_update_replace_delete(prov: Provisioner, cloud: Any, calls: CallLog) -> None:
    state = prov.deploy("dev-app-alarms", alarm_template())
    topic = state.resources["Topic"].physical_id
    [alarm] = alarms(cloud).values()
    assert alarm["AlarmName"] == state.resources["Alarm"].physical_id == state.outputs["AlarmRef"]
    assert alarm["AlarmArn"] == state.outputs["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:dev-app-fn-Errors"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [topic]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"], alarm["Threshold"]) == (
        "AWS/Lambda", "Errors", "Sum", 1.0)
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": "dev-app-fn"}]

    before = len(calls.writes())
    prov.deploy("dev-app-alarms", alarm_template())
    assert len(calls.writes()) == before  # nothing changed, nothing written

    prov.deploy("dev-app-alarms", alarm_template(Threshold=5, DatapointsToAlarm=1, Statistic=None,
                                                 ExtendedStatistic="p99"))
    [alarm] = alarms(cloud).values()
    assert (alarm["Threshold"], alarm["DatapointsToAlarm"], alarm["ExtendedStatistic"]) == (5.0, 1, "p99")
    assert "Statistic" not in alarm  # an update overwrites the whole configuration
    # (AWS leaves the state of an updated alarm alone; moto 5 makes a new one, back in OK: docs/alarms.md)

    state = prov.deploy("dev-app-alarms", alarm_template(AlarmName="dev-app-fn-Failures"))
    assert set(alarms(cloud)) == {"dev-app-fn-Failures"}  # a new name replaces it
    assert state.outputs["AlarmRef"] == "dev-app-fn-Failures"

    prov.delete("dev-app-alarms")
    assert alarms(cloud) == {}


def test_an_alarm_without_a_name_gets_a_generated_one(prov: Provisioner, cloud: Any) -> None:
    state = prov.deploy("dev-app-alarms", alarm_template(AlarmName=None))
    name = state.resources["Alarm"].physical_id
    assert name.startswith("dev-app-alarms-Alarm-") and set(alarms(cloud)) == {name}


def test_an_unknown_alarm_property_is_refused_before_anything_is_made(prov: Provisioner, cloud: Any) -> None:
    from stagewise.provisioner import TemplateError

    with pytest.raises(TemplateError, match="Thresold"):
        prov.deploy("dev-app-alarms", alarm_template(Thresold=1))
    assert alarms(cloud) == {}


# --- the app's prod stage in the local cloud ---------------------------------------------------------

def prod_project() -> Project:
    manifest = {
        "app": {"name": "notes", "region": REGION, "runtime": "python3.12"},
        "services": {"infra": {"path": "infra", "infra": True}, "notes-api": "services/notes-api",
                     "billing-api": "services/billing-api", "notify-job": "services/notify-job"},
        "accounts": {"prod": {"id": ACCOUNT}},
        "defaults": {"account": "prod", "vars": {"admin_phone": "+15555550100"}},
        "stages": {"prod": {"alarms": True, "vars": {"alarm_emails": "ops@example.com",
                                                     "alarm_phones": "+15555550123"}}},
    }
    return parse_project(manifest, root=REPO, file=REPO / "stagewise.toml")


@pytest.fixture
def prod(prov: Provisioner) -> dict[str, Any]:
    app = prod_project()
    templates = render_stage(app, app.stage("prod"))
    for phase in deploy_phases(templates):
        for service in phase:
            prov.deploy(stack_name(app, "prod", service), templates[service])
    names = {res["Properties"]["AlarmName"] for t in templates.values() for res in t["Resources"].values()
             if res["Type"] == "AWS::CloudWatch::Alarm"}
    return {"templates": templates, "names": names, "topic": prov.exports()["prod-notes-alarms-AlarmTopicArn"]}


def test_prod_alarms_exist_in_the_local_cloud_and_notify_the_stage_topic(prod: dict[str, Any], cloud: Any) -> None:
    live = alarms(cloud)
    assert set(live) == prod["names"] and len(live) > 10
    assert prod["topic"].endswith(":prod-notes-alarms")
    for alarm in live.values():
        assert alarm["AlarmActions"] == alarm["OKActions"] == [prod["topic"]], alarm["AlarmName"]
    functions = {f["FunctionName"] for f in cloud.client("lambda").list_functions()["Functions"]}
    watched = {d["Value"] for a in live.values() for d in a["Dimensions"] if d["Name"] == "FunctionName"}
    assert watched == functions  # the Ref dimension resolved to each real function name
    queues = {d["Value"] for a in live.values() for d in a["Dimensions"] if d["Name"] == "QueueName"}
    assert queues == {"prod-notes-notify-dlq", "prod-notes-billing-outbox"}
    api = {d["Name"]: d["Value"] for d in live["prod-notes-notes-api-stage-Stage-5XXError"]["Dimensions"]}
    assert api == {"ApiName": "prod-notes-api", "Stage": "prod"}
    assert [a["name"] for a in cloud.client("apigateway").get_rest_apis()["items"]] == ["prod-notes-api"]
    subs = cloud.client("sns").list_subscriptions_by_topic(TopicArn=prod["topic"])["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subs) == [("email", "ops@example.com"),
                                                                     ("sms", "+15555550123")]


def test_an_alarm_goes_into_alarm_and_its_topic_delivers(prod: dict[str, Any], cloud: Any) -> None:
    watcher = subscribe_queue(cloud, prod["topic"])
    cloudwatch = cloud.client("cloudwatch")
    name = "prod-notes-billing-api-OutboxQueue-OldestMessageAge"
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="outbox not drained")
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "outbox not drained")
    assert [a["AlarmName"] for a in cloudwatch.describe_alarms(StateValue="ALARM")["MetricAlarms"]] == [name]

    # moto 5 records the state but runs no action: nothing reaches the topic (docs/alarms.md). When it
    # starts to, this fails: then assert the notification below comes from set_alarm_state itself.
    assert receive(cloud, watcher) == []
    # What CloudWatch publishes on the transition, sent to the topic the alarm names, reaches its subscribers.
    [topic] = alarm["AlarmActions"]
    notification = {"AlarmName": name, "NewStateValue": "ALARM", "OldStateValue": "OK",
                    "NewStateReason": alarm["StateReason"], "AlarmArn": alarm["AlarmArn"]}
    cloud.client("sns").publish(TopicArn=topic, Subject=f'ALARM: "{name}" in US East (N. Virginia)',
                                Message=json.dumps(notification))
    [message] = receive(cloud, watcher)
    envelope = json.loads(message["Body"])
    assert envelope["TopicArn"] == prod["topic"]
    assert json.loads(envelope["Message"])["AlarmName"] == name

    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="drained")
    assert cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"] == "OK"


def test_removing_the_prod_stage_removes_its_alarms_and_topic(prod: dict[str, Any], prov: Provisioner,
                                                              cloud: Any) -> None:
    from stagewise.stacks import removal_phases

    app = prod_project()
    for phase in removal_phases(prod["templates"]):
        for service in phase:
            prov.delete(stack_name(app, "prod", service))
    assert alarms(cloud) == {}
    assert prod["topic"] not in [t["TopicArn"] for t in cloud.client("sns").list_topics()["Topics"]]


def subscribe_queue(cloud: Any, topic: str) -> str:
    sqs = cloud.client("sqs")
    url = sqs.create_queue(QueueName="alarm-watcher")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.client("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return url


def receive(cloud: Any, url: str) -> list[dict[str, Any]]:
    return cloud.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])


def test_an_alarm_stack_through_the_local_cloudformation_api(tmp_path: Path) -> None:
    """The same resource class behind the local cloud's CloudFormation API (a real server process)."""
    from stagewise.cloud import client
    from stagewise.testing import running_cloud

    with running_cloud(tmp_path / "cloud") as local:
        def aws(service: str) -> Any:
            return client(local.endpoint, account_id="111111111111", region=REGION, service=service)

        cfn = aws("cloudformation")
        cfn.create_stack(StackName="dev-app-alarms", TemplateBody=json.dumps(alarm_template()))
        cfn.get_waiter("stack_create_complete").wait(StackName="dev-app-alarms",
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        outputs = {o["OutputKey"]: o["OutputValue"]
                   for o in cfn.describe_stacks(StackName="dev-app-alarms")["Stacks"][0]["Outputs"]}
        cloudwatch = aws("cloudwatch")
        [alarm] = cloudwatch.describe_alarms()["MetricAlarms"]
        assert alarm["AlarmName"] == outputs["AlarmRef"] == "dev-app-fn-Errors"
        assert alarm["AlarmArn"] == outputs["AlarmArn"]
        cloudwatch.set_alarm_state(AlarmName="dev-app-fn-Errors", StateValue="ALARM", StateReason="test")
        assert cloudwatch.describe_alarms(StateValue="ALARM")["MetricAlarms"][0]["AlarmName"] == "dev-app-fn-Errors"
        cfn.delete_stack(StackName="dev-app-alarms")
        cfn.get_waiter("stack_delete_complete").wait(StackName="dev-app-alarms",
                                                     WaiterConfig={"Delay": 1, "MaxAttempts": 30})
        assert cloudwatch.describe_alarms()["MetricAlarms"] == []
