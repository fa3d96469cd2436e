"""AWS::CloudWatch::Alarm (Ref = alarm name; attr Arn).

Create and update are one `put_metric_alarm` with every property (as in CloudFormation, an update
overwrites the whole configuration and leaves the alarm's state alone); delete is `delete_alarms`.
Only a new `AlarmName` replaces the alarm. Without a name one is generated (`<stack>-<logical id>-<12>`).

moto stores the alarm and its actions but never evaluates metrics and never runs the actions:
`set_alarm_state` changes the state and publishes nothing to the `AlarmActions` / `OKActions`
topics (see docs/alarms.md).
"""

from __future__ import annotations

from typing import Any

from stagewise.provisioner.resources.base import (
    Provisioned,
    ResourceType,
    is_true,
    optional,
    register,
    tags_list,
)
from stagewise.provisioner.state import ResourceState

MAX_NAME = 255
_PASSED = {  # template property → put_metric_alarm argument, passed as they are
    "AlarmDescription": "AlarmDescription",
    "AlarmActions": "AlarmActions",
    "OKActions": "OKActions",
    "InsufficientDataActions": "InsufficientDataActions",
    "MetricName": "MetricName",
    "Namespace": "Namespace",
    "Statistic": "Statistic",
    "ExtendedStatistic": "ExtendedStatistic",
    "Unit": "Unit",
    "TreatMissingData": "TreatMissingData",
    "EvaluateLowSampleCountPercentile": "EvaluateLowSampleCountPercentile",
    "ThresholdMetricId": "ThresholdMetricId",
    "ComparisonOperator": "ComparisonOperator",
}
_INTEGERS = ("EvaluationPeriods", "DatapointsToAlarm", "Period")


@register
class Alarm(ResourceType):
    type_name = "AWS::CloudWatch::Alarm"
    properties = frozenset({
        "AlarmName", "ActionsEnabled", "Dimensions", "Metrics", "Threshold", "Tags", *_INTEGERS, *_PASSED,
    })
    required = frozenset({"ComparisonOperator", "EvaluationPeriods"})
    replace_on = frozenset({"AlarmName"})
    attributes = frozenset({"Arn"})
    name_property = "AlarmName"

    def create(self, props: dict[str, Any]) -> Provisioned:
        name = props.get("AlarmName") or self.ctx.generated_name(max_length=MAX_NAME)
        self._put(name, props)
        return Provisioned(physical_id=name, attributes={"Arn": self.ctx.arn("cloudwatch", f"alarm:{name}")})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        if current.properties != props:
            self._put(current.physical_id, props)
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("cloudwatch").delete_alarms(AlarmNames=[current.physical_id])

    def _put(self, name: str, props: dict[str, Any]) -> None:
        kwargs = put_arguments(props)
        self.ctx.client("cloudwatch").put_metric_alarm(AlarmName=name, **kwargs)


def put_arguments(props: dict[str, Any]) -> dict[str, Any]:
    """`put_metric_alarm` keywords (all but AlarmName) from resolved template properties."""
    kwargs = optional(props, _PASSED)
    kwargs.update({key: int(props[key]) for key in _INTEGERS if key in props})
    if "Threshold" in props:
        kwargs["Threshold"] = float(props["Threshold"])
    if "ActionsEnabled" in props:
        kwargs["ActionsEnabled"] = is_true(props["ActionsEnabled"])
    if "Dimensions" in props:
        kwargs["Dimensions"] = [{"Name": d["Name"], "Value": str(d["Value"])} for d in props["Dimensions"]]
    if "Metrics" in props:
        kwargs["Metrics"] = props["Metrics"]
    if props.get("Tags"):
        kwargs["Tags"] = tags_list(props)
    return kwargs
