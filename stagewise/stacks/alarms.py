"""CloudWatch alarms for a stage with `alarms = true`, derived from its rendered templates.

Data flow (in `render_stage`, after every template is rendered and published):

    every template of the stage
      AWS::Lambda::Function                      → <Fn>ErrorsAlarm, <Fn>ThrottlesAlarm     (AWS/Lambda, FunctionName)
      AWS::ApiGateway::Stage on a RestApi        → <Stage>ServerErrorsAlarm (5XXError rate),
                                                   <Stage>LatencyAlarm (p99)              (AWS/ApiGateway, ApiName + Stage)
      AWS::SQS::Queue that is a dead-letter queue (a RedrivePolicy's deadLetterTargetArn, a function's
        DeadLetterConfig, an on-failure destination, an EventBridge target's DeadLetterConfig)
        or is marked an outbox (`mark_outbox`)   → <Queue>AgeAlarm (ApproximateAgeOfOldestMessage)  (AWS/SQS, QueueName)
    → each alarm is added to the template that owns the resource it watches (same lifecycle: the
      alarm goes when the resource goes), notifying (AlarmActions and OKActions) the stage's topic;
    → a generated stack `<stage>-<app>-alarms` (service key `alarms`) owns that SNS topic
      (`<stage>-<app>-alarms`) and its subscriptions, from the stage variables `alarm_emails`
      and `alarm_phones` (comma-separated), and exports `AlarmTopicArn`, which every stack with
      alarms imports — so it deploys first and is removed last.

A stage without `alarms` gets none of it. Thresholds are the constants below (docs/alarms.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from troposphere import BaseAWSObject

from stagewise.config import Project, StageConfig
from stagewise.errors import UserError
from stagewise.stacks import naming

Template = dict[str, Any]
Ref = tuple[str, str]  # (service, logical id) of a resource in the stage's templates
R = TypeVar("R", bound=BaseAWSObject)

ALARMS_SERVICE = "alarms"
TOPIC_ID = "AlarmTopic"
TOPIC_EXPORT = "AlarmTopicArn"
OUTBOX_KEY = "outbox"  # resource Metadata.stagewise.outbox = {"max_age_seconds": N}
EMAILS_VAR, PHONES_VAR = "alarm_emails", "alarm_phones"
MAX_ALARM_NAME = 255

FIVE_MINUTES = 300
ERRORS_THRESHOLD = 1  # any failed invocation in 5 minutes
THROTTLES_THRESHOLD = 1  # any throttled invocation in 5 minutes
SERVER_ERROR_RATE = 0.05  # 5 % of requests answered 5xx, in 2 of 3 five-minute periods
LATENCY_P99_MS = 3000  # p99 over 3 s for 15 minutes (3 of 3 periods)
DLQ_MAX_AGE_SECONDS = 60  # a message in a dead-letter queue is failed work: alarm within ~2 minutes
OUTBOX_MAX_AGE_SECONDS = 900  # an outbox message older than 15 minutes was not published; drain it
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def mark_outbox(queue: R, *, max_age_seconds: int = OUTBOX_MAX_AGE_SECONDS) -> R:
    """Mark an `sqs.Queue` as an outbox: on a stage with alarms, its oldest message older than
    `max_age_seconds` raises an alarm. Returns the queue (Metadata.stagewise.outbox)."""
    if int(max_age_seconds) < 60:
        raise ValueError(f"max_age_seconds must be at least 60 (SQS reports the age once a minute), got {max_age_seconds}")
    metadata = dict(getattr(queue, "Metadata", None) or {})
    stagewise = dict(metadata.get("stagewise") or {})
    stagewise[OUTBOX_KEY] = {"max_age_seconds": int(max_age_seconds)}
    metadata["stagewise"] = stagewise
    queue.Metadata = metadata
    return queue


@dataclass(frozen=True)
class Watch:
    """One alarm to add: where it goes, what it watches and how."""

    service: str
    logical_id: str  # of the alarm resource
    name_suffix: str  # `<stack>-<watched logical id>-<suffix>`
    watched: str
    description: str
    properties: dict[str, Any]
    condition: str | None = None  # the watched resource's Condition: no resource, no alarm


def add_alarms(project: Project, stage: StageConfig, templates: dict[str, Template]) -> dict[str, Template]:
    """`templates` with every alarm added and the stage's alarm stack; unchanged when the stage has no alarms."""
    if not stage.alarms:
        return templates
    naming.refuse_taken(project, templates, ALARMS_SERVICE, holds=f"stage {stage.name}'s alarm topic (alarms = true)")
    topic = {"Fn::ImportValue": naming.export_name(project=project, stage=stage.name, service=ALARMS_SERVICE,
                                                   key=TOPIC_EXPORT)}
    watches: dict[str, list[Watch]] = {}
    for watch in [*function_watches(templates), *api_watches(templates), *queue_watches(templates)]:
        watches.setdefault(watch.service, []).append(watch)
    result = dict(templates)
    for service, found in watches.items():
        result[service] = with_alarms(project, stage, templates[service], service, found, topic)
    result[ALARMS_SERVICE] = alarm_stack(project, stage)
    return result


def with_alarms(project: Project, stage: StageConfig, template: Template, service: str, watches: list[Watch],
                topic: dict[str, Any]) -> Template:
    resources = dict(template.get("Resources") or {})
    stack = naming.stack_name(project, stage, service)
    for watch in watches:
        if watch.logical_id in resources:
            raise UserError(f"{service}/{watch.logical_id}: the logical id is taken; the alarm on {watch.watched} "
                            "needs it (alarms = true), rename the resource")
        resources[watch.logical_id] = {
            **({"Condition": watch.condition} if watch.condition else {}),
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": f"{stack}-{watch.watched}-{watch.name_suffix}"[:MAX_ALARM_NAME],
                "AlarmDescription": f"{stack} {watch.watched}: {watch.description}",
                **watch.properties,
                "AlarmActions": [topic],
                "OKActions": [topic],
            },
        }
    return {**template, "Resources": resources}


def function_watches(templates: Mapping[str, Template]) -> Iterator[Watch]:
    for service, lid, function in _resources(templates, "AWS::Lambda::Function"):
        dimensions = [{"Name": "FunctionName", "Value": {"Ref": lid}}]
        for metric, threshold, what in (("Errors", ERRORS_THRESHOLD, "failed invocations"),
                                        ("Throttles", THROTTLES_THRESHOLD, "throttled invocations")):
            yield Watch(service, f"{lid}{metric}Alarm", metric, lid,
                        f"{what} >= {threshold} in 5 minutes",
                        _metric("AWS/Lambda", metric, dimensions, Statistic="Sum", Period=FIVE_MINUTES,
                                EvaluationPeriods=1, Threshold=threshold), function.get("Condition"))


def api_watches(templates: Mapping[str, Template]) -> Iterator[Watch]:
    """Per API Gateway Stage of a REST API in the stage: its 5XXError rate and p99 Latency."""
    for service, lid, stage in _resources(templates, "AWS::ApiGateway::Stage"):
        props = stage.get("Properties") or {}
        api = _resolve(props.get("RestApiId"), service, templates, "Ref")
        if api is None or _type(templates, api) != "AWS::ApiGateway::RestApi":
            continue
        name = (templates[api[0]]["Resources"][api[1]].get("Properties") or {}).get("Name")
        if name is None or (api[0] != service and not isinstance(name, str)):
            raise UserError(f"{api[0]}/{api[1]}: alarms need the REST API's Name as a plain string (the ApiName "
                            f"dimension, read from {service}/{lid}); give the RestApi a Name")
        dimensions = [{"Name": "ApiName", "Value": name}, {"Name": "Stage", "Value": props.get("StageName")}]
        yield Watch(service, f"{lid}ServerErrorsAlarm", "5XXError", lid,
                    f"5XX answers >= {SERVER_ERROR_RATE:.0%} of requests in 2 of 3 five-minute periods",
                    _metric("AWS/ApiGateway", "5XXError", dimensions, Statistic="Average", Period=FIVE_MINUTES,
                            EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=SERVER_ERROR_RATE),
                    stage.get("Condition"))
        yield Watch(service, f"{lid}LatencyAlarm", "Latency-p99", lid,
                    f"p99 latency >= {LATENCY_P99_MS} ms for 15 minutes",
                    _metric("AWS/ApiGateway", "Latency", dimensions, ExtendedStatistic="p99", Period=FIVE_MINUTES,
                            EvaluationPeriods=3, Threshold=LATENCY_P99_MS, EvaluateLowSampleCountPercentile="ignore"),
                    stage.get("Condition"))


def queue_watches(templates: Mapping[str, Template]) -> Iterator[Watch]:
    """The age of the oldest message of every dead-letter queue and every marked outbox of the stage."""
    reasons: dict[Ref, list[str]] = {}
    limits: dict[Ref, int] = {}
    for queue, why in dead_letter_queues(templates):
        reasons.setdefault(queue, []).append(why)
        limits[queue] = DLQ_MAX_AGE_SECONDS
    for service, lid, res in _resources(templates, "AWS::SQS::Queue"):
        outbox = ((res.get("Metadata") or {}).get("stagewise") or {}).get(OUTBOX_KEY)
        if outbox:
            settings = outbox if isinstance(outbox, dict) else {}
            limit = int(settings.get("max_age_seconds", OUTBOX_MAX_AGE_SECONDS))
            reasons.setdefault((service, lid), []).append("outbox")
            limits[(service, lid)] = min(limits.get((service, lid), limit), limit)
    for (service, lid), why in sorted(reasons.items()):
        limit = limits[(service, lid)]
        queue = templates[service]["Resources"][lid]
        dimensions = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [lid, "QueueName"]}}]
        yield Watch(service, f"{lid}AgeAlarm", "OldestMessageAge", lid,
                    f"{'; '.join(sorted(set(why)))}: oldest message >= {limit} s",
                    _metric("AWS/SQS", "ApproximateAgeOfOldestMessage", dimensions, Statistic="Maximum",
                            Period=60, EvaluationPeriods=1, Threshold=limit), queue.get("Condition"))


def dead_letter_queues(templates: Mapping[str, Template]) -> Iterator[tuple[Ref, str]]:
    """(queue, why) for every queue of the stage that something sends its failures to."""
    for service, template in sorted(templates.items()):
        for lid, res in sorted((template.get("Resources") or {}).items()):
            for target in _dead_letter_targets(res):
                queue = _resolve(target, service, templates, "Arn")
                if queue is not None and _type(templates, queue) == "AWS::SQS::Queue":
                    yield queue, f"dead-letter queue of {service}/{lid}"


def _dead_letter_targets(resource: Mapping[str, Any]) -> Iterator[Any]:
    kind, props = resource.get("Type"), resource.get("Properties") or {}
    if kind in ("AWS::SQS::Queue", "AWS::SNS::Subscription") and props.get("RedrivePolicy"):
        policy = props["RedrivePolicy"]
        if isinstance(policy, str):
            try:
                policy = json.loads(policy)
            except ValueError:
                policy = {}
        if isinstance(policy, dict) and "deadLetterTargetArn" in policy:
            yield policy["deadLetterTargetArn"]
    if kind == "AWS::Lambda::Function":
        yield (props.get("DeadLetterConfig") or {}).get("TargetArn")
    if kind in ("AWS::Lambda::EventInvokeConfig", "AWS::Lambda::EventSourceMapping"):
        yield ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if kind == "AWS::Events::Rule":
        for target in props.get("Targets") or []:
            yield (target.get("DeadLetterConfig") or {}).get("Arn")


def _resolve(value: Any, service: str, templates: Mapping[str, Template], want: str) -> Ref | None:
    """The resource of the stage a Ref / GetAtt <want> / ImportValue / literal ARN value points at."""
    resources = templates[service].get("Resources") or {}
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref" and want == "Ref" and arg in resources:
            return service, arg
        if fn == "Fn::GetAtt":
            lid, attr = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return (service, lid) if attr == want and lid in resources else None
        if fn == "Fn::ImportValue" and isinstance(arg, str):
            for other, template in sorted(templates.items()):
                for output in (template.get("Outputs") or {}).values():
                    if (output.get("Export") or {}).get("Name") == arg:
                        return _resolve(output.get("Value"), other, templates, want)
        if fn == "Fn::Sub" and isinstance(arg, str):
            value = arg
    if isinstance(value, str) and value.startswith("arn:") and ":sqs:" in value:
        name = value.rsplit(":", 1)[1]
        for other, lid, res in _resources(templates, "AWS::SQS::Queue"):
            if "${" not in name and (res.get("Properties") or {}).get("QueueName") == name:
                return other, lid
    return None


def alarm_stack(project: Project, stage: StageConfig) -> Template:
    """The stage's alarm topic, its subscribers (stage variables) and the export every alarm imports."""
    stack = naming.stack_name(project, stage, ALARMS_SERVICE)
    resources: dict[str, Any] = {
        TOPIC_ID: {"Type": "AWS::SNS::Topic",
                   "Properties": {"TopicName": naming.resource_name(project, stage, ALARMS_SERVICE)}},
    }
    for protocol, endpoint in subscribers(stage):
        digest = hashlib.sha256(endpoint.encode()).hexdigest()[:8].upper()
        resources[f"Alarm{protocol.capitalize()}{digest}"] = {
            "Type": "AWS::SNS::Subscription",
            "Properties": {"TopicArn": {"Ref": TOPIC_ID}, "Protocol": protocol, "Endpoint": endpoint},
        }
    export = naming.export_name(project=project, stage=stage.name, service=ALARMS_SERVICE, key=TOPIC_EXPORT)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{stack}: the alarm topic of stage {stage.name}; every alarm of the stage notifies it",
        "Metadata": {"stagewise": {"stage": stage.name, "app": project.app.name, "service": ALARMS_SERVICE}},
        "Resources": resources,
        "Outputs": {TOPIC_EXPORT: {"Description": "every alarm of the stage notifies this topic",
                                   "Value": {"Ref": TOPIC_ID}, "Export": {"Name": export}}},
    }


def subscribers(stage: StageConfig) -> list[tuple[str, str]]:
    """(protocol, endpoint) from `alarm_emails` (email) and `alarm_phones` (sms), comma-separated, checked."""
    found: list[tuple[str, str]] = []
    table = "[ephemeral.vars]" if stage.ephemeral else f"[stages.{stage.name}.vars]"
    for var, protocol, pattern, example in ((EMAILS_VAR, "email", EMAIL, "ops@example.com"),
                                            (PHONES_VAR, "sms", E164, "+15555550100")):
        value = stage.vars.get(var)
        if value is None or value == "":
            continue
        if not isinstance(value, str):
            raise UserError(f"stage '{stage.name}': {var} must be a comma-separated string, e.g. "
                            f"{var} = \"{example}\" under {table} in stagewise.toml")
        for item in (part.strip() for part in value.split(",")):
            if not item:
                continue
            if not pattern.match(item):
                raise UserError(f"stage '{stage.name}': {var}: {item!r} is not a valid {protocol} endpoint; write "
                                f"it like {example} (comma-separated) under {table} in stagewise.toml")
            if (protocol, item) not in found:
                found.append((protocol, item))
    return found


def _metric(namespace: str, metric: str, dimensions: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
    return {
        "Namespace": namespace,
        "MetricName": metric,
        "Dimensions": dimensions,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        **settings,
    }


def _resources(templates: Mapping[str, Template], kind: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for service, template in sorted(templates.items()):
        for lid, res in sorted((template.get("Resources") or {}).items()):
            if res.get("Type") == kind:
                yield service, lid, res


def _type(templates: Mapping[str, Template], ref: Ref) -> str | None:
    return ((templates[ref[0]].get("Resources") or {}).get(ref[1]) or {}).get("Type")
