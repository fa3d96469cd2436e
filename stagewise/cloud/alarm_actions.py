"""CloudWatch alarm actions in the local cloud: a state change notifies the alarm's SNS topics.

moto 5 records `SetAlarmState` (and a state an alarm reaches) but runs none of the alarm's
actions; on AWS the topics in `AlarmActions` / `OKActions` / `InsufficientDataActions` get
CloudWatch's notification. `install()` (server process only) makes moto publish it, inside the
same request, so the journal replays it like any other write. The message is CloudWatch's JSON
(AlarmName, AlarmDescription, AWSAccountId, NewStateValue, NewStateReason, StateChangeTime,
Region, AlarmArn, OldStateValue, Trigger) with the subject `ALARM: "<name>" in <region>`.
"""

from __future__ import annotations

import json
from typing import Any

from stagewise.cloud.determinism import CLOCK


def install() -> None:
    from moto.cloudwatch import models

    original = models.CloudWatchBackend.set_alarm_state
    if getattr(original, "_stagewise", False):
        return

    def set_alarm_state(self: Any, alarm_name: str, reason: str, reason_data: str, state_value: str) -> None:
        before = self.alarms[alarm_name].state_value if alarm_name in self.alarms else None
        original(self, alarm_name, reason, reason_data, state_value)
        alarm = self.alarms[alarm_name]
        if before is not None and before != state_value:
            notify(alarm, old=before, account_id=self.account_id, region=self.region_name)

    set_alarm_state._stagewise = True  # type: ignore[attr-defined]
    models.CloudWatchBackend.set_alarm_state = set_alarm_state  # type: ignore[method-assign]


def notify(alarm: Any, *, old: str, account_id: str, region: str) -> None:
    """Publish CloudWatch's notification of `alarm`'s new state to the SNS topics its actions name."""
    from moto.sns.models import sns_backends

    if not alarm.actions_enabled:
        return
    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(alarm.state_value) or []
    message = json.dumps({
        "AlarmName": alarm.name, "AlarmDescription": alarm.description, "AWSAccountId": account_id,
        "NewStateValue": alarm.state_value, "NewStateReason": alarm.state_reason,
        "StateChangeTime": CLOCK.utcnow().isoformat(timespec="milliseconds") + "Z", "Region": region,
        "AlarmArn": alarm.alarm_arn, "OldStateValue": old,
        "Trigger": {"MetricName": alarm.metric_name, "Namespace": alarm.namespace,
                    "Statistic": alarm.statistic, "Period": alarm.period, "Threshold": alarm.threshold,
                    "ComparisonOperator": alarm.comparison_operator, "EvaluationPeriods": alarm.evaluation_periods},
    }, default=str)
    subject = f'{alarm.state_value}: "{alarm.name}" in {region}'[:99]
    for arn in actions:
        parts = arn.split(":")
        if len(parts) == 6 and parts[2] == "sns":
            sns_backends[parts[4]][parts[3]].publish(message=message, arn=arn, subject=subject)
