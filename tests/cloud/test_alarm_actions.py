"""An alarm's state change notifies the SNS topics of its actions, as CloudWatch does (moto alone
records the state and sends nothing)."""

from __future__ import annotations

import json

from stagewise.cloud import LocalCloud
from tests.cloud.conftest import make_client


def test_a_state_change_notifies_the_alarms_topic_once(cloud: LocalCloud) -> None:
    sns, sqs, cloudwatch = make_client(cloud, "sns"), make_client(cloud, "sqs"), make_client(cloud, "cloudwatch")
    topic = sns.create_topic(Name="dev-alarms")["TopicArn"]
    queue = sqs.create_queue(QueueName="alarm-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    cloudwatch.put_metric_alarm(AlarmName="dev-errors", MetricName="Errors", Namespace="AWS/Lambda",
                                Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1,
                                ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])

    cloudwatch.set_alarm_state(AlarmName="dev-errors", StateValue="ALARM", StateReason="3 errors")
    cloudwatch.set_alarm_state(AlarmName="dev-errors", StateValue="ALARM", StateReason="still")  # no change
    cloudwatch.set_alarm_state(AlarmName="dev-errors", StateValue="OK", StateReason="quiet")  # no OKActions

    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    assert len(received) == 1
    envelope = json.loads(received[0]["Body"])
    assert envelope["Subject"] == 'ALARM: "dev-errors" in us-east-1'
    notification = json.loads(envelope["Message"])
    assert (notification["AlarmName"], notification["NewStateValue"], notification["OldStateValue"],
            notification["NewStateReason"]) == ("dev-errors", "ALARM", "OK", "3 errors")
    assert notification["Trigger"]["MetricName"] == "Errors"
