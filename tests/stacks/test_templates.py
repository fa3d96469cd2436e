"""Rules every rendered template of every stage obeys: cfn-lint clean, names carry the stage,
least-privilege IAM, imports that resolve, stage settings in the functions, no secrets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from stagewise.stacks import exports_of, imports_of
from stagewise.stacks.functions import SECRET_VALUE
from tests.stacks.conftest import REPO, STAGES

NAMED = {
    "TableName", "FunctionName", "RoleName", "UserPoolName", "IdentityPoolName", "LogGroupName",
    "TopicName", "QueueName", "ClientName", "LayerName", "BucketName", "AlarmName", "StateMachineName",
}
NAMED_BY_TYPE = {"AWS::ApiGateway::RestApi": "Name", "AWS::ApiGateway::Authorizer": "Name", "AWS::IAM::Policy": "PolicyName"}
# Types whose *Name properties point at another resource rather than name a new one.
REFERRING = {"AWS::Lambda::Permission", "AWS::Lambda::EventSourceMapping", "AWS::Lambda::EventInvokeConfig"}
DATA_SERVICES = {"dynamodb", "s3", "sns", "sqs", "ssm"}


def all_templates(rendered) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for stage, templates in rendered.items():
        for service, template in templates.items():
            yield stage, service, template


def named_values(template: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        keys = {k for k in props if k in NAMED} if resource["Type"] not in REFERRING else set()
        if resource["Type"] in NAMED_BY_TYPE:
            keys.add(NAMED_BY_TYPE[resource["Type"]])
        for key in keys:
            yield logical_id, key, props.get(key)


def policy_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents.append(props["PolicyDocument"])
        for document in documents:
            for statement in document["Statement"]:
                yield logical_id, statement


def test_every_stage_renders_its_own_stacks(rendered) -> None:
    assert {"infra", "notes-api"} <= set(rendered["dev"]) and {"infra", "notes-api"} <= set(rendered["prod"])
    assert "infra" not in rendered["pr-12"]  # an ephemeral stage borrows dev's infra
    assert "notes-api" in rendered["pr-12"]


@pytest.mark.parametrize("stage", STAGES)
def test_cfn_lint_finds_no_errors_or_warnings(rendered, lint_results, stage: str) -> None:
    for service in rendered[stage]:
        problems = [str(m) for m in lint_results[(stage, service)] if m.rule.id[0] in "EW"]
        assert problems == [], f"{stage}/{service}"


def test_every_named_resource_carries_its_stage(rendered) -> None:
    checked = 0
    for stage, service, template in all_templates(rendered):
        token = re.compile(rf"(^|[/_-]){re.escape(stage)}[_-]|(^|_){re.escape(stage.replace('-', '_'))}_")
        for logical_id, key, value in named_values(template):
            assert isinstance(value, str) and token.search(value), f"{stage}/{service}/{logical_id}.{key} = {value!r}"
            checked += 1
    assert checked > 20


def test_no_bucket_is_given_a_fixed_name(rendered) -> None:
    for stage, service, template in all_templates(rendered):
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == "AWS::S3::Bucket":
                assert "BucketName" not in resource.get("Properties", {}), f"{stage}/{service}/{logical_id}"


def test_named_resources_of_two_stages_in_one_account_never_collide(rendered) -> None:
    def names(stage: str) -> set[str]:
        return {v for _, _, t in all_templates({stage: rendered[stage]}) for _, _, v in named_values(t)}

    assert names("dev") and names("pr-12")
    assert names("dev").isdisjoint(names("pr-12"))


def is_sms_only_publish(statement: dict[str, Any], siblings: list[dict[str, Any]]) -> bool:
    """SNS checks a publish to a phone number against Resource "*": allowed only when the same
    role denies publishing to every topic and endpoint, so sending SMS is all it can do."""
    if statement.get("Effect") != "Allow" or statement.get("Action") not in ("sns:Publish", ["sns:Publish"]):
        return False
    deny_all_sns = {"Fn::Sub": "arn:${AWS::Partition}:sns:*"}
    return any(
        other.get("Effect") == "Deny"
        and other.get("Action") in ("sns:Publish", ["sns:Publish"])
        and deny_all_sns in (other["Resource"] if isinstance(other["Resource"], list) else [other["Resource"]])
        for other in siblings
    )


def test_no_statement_grants_every_action_or_every_data_resource(rendered) -> None:
    seen = 0
    for stage, service, template in all_templates(rendered):
        statements = list(policy_statements(template))
        for logical_id, statement in statements:
            if is_sms_only_publish(statement, [other for lid, other in statements if lid == logical_id]):
                seen += 1
                continue
            where = f"{stage}/{service}/{logical_id}: {statement}"
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            assert "NotAction" not in statement and "NotResource" not in statement, where
            for action in actions:
                assert action != "*" and not action.endswith(":*"), where
            resources = statement.get("Resource", [])
            resources = [resources] if not isinstance(resources, list) else resources
            if "*" in resources:
                assert not {a.split(":")[0] for a in actions} & DATA_SERVICES, where
            seen += 1
    assert seen > 10


def test_every_import_has_an_export_in_another_stack_of_the_stage_or_in_devs_infra(rendered) -> None:
    for stage, templates in rendered.items():
        available = {name: service for service, t in templates.items() for name in exports_of(t)}
        if "infra" not in templates:
            available |= {name: "dev infra" for name in exports_of(rendered["dev"]["infra"])}
        for service, template in templates.items():
            for name in imports_of(template):
                assert name in available, f"{stage}/{service} imports {name}, exported by nobody"
                assert available[name] != service, f"{stage}/{service} imports its own export {name}"


def test_ephemeral_stage_reads_devs_infra_and_its_own_api(rendered) -> None:
    imports = imports_of(rendered["pr-12"]["notes-api"])
    assert imports and all(name.startswith("dev-notes-infra-") for name in imports)
    assert all(name.startswith("pr-12-notes-notes-api-") for name in exports_of(rendered["pr-12"]["notes-api"]))


def test_export_names_are_prefixed_by_stage_app_and_service(rendered) -> None:
    for stage, service, template in all_templates(rendered):
        for name in exports_of(template):
            assert name.startswith(f"{stage}-notes-{service}-"), name


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}


def test_stage_config_flows_into_every_function(rendered, project) -> None:
    for stage, _service, template in all_templates(rendered):
        config = project.stage(stage)
        for logical_id, resource in functions(template).items():
            props = resource["Properties"]
            assert (props["MemorySize"], props["Timeout"]) == (config.memory, config.timeout), logical_id
            assert props["Environment"]["Variables"]["LOG_LEVEL"] == config.log_level
            assert props["Environment"]["Variables"]["STAGE"] == stage
    prod_memory = {r["Properties"]["MemorySize"] for r in functions(rendered["prod"]["notes-api"]).values()}
    dev_levels = {r["Properties"]["Environment"]["Variables"]["LOG_LEVEL"] for r in functions(rendered["dev"]["notes-api"]).values()}
    assert (prod_memory, dev_levels) == ({512}, {"DEBUG"})


def test_functions_follow_the_runtime_and_build_conventions(rendered) -> None:
    for _stage, service, template in all_templates(rendered):
        resources = template["Resources"]
        for logical_id, resource in functions(template).items():
            props, meta = resource["Properties"], resource["Metadata"]["stagewise"]
            assert meta["service"] == service
            package, module, _ = props["Handler"].split(".")
            assert (REPO / meta["source"] / package / f"{module}.py").is_file(), props["Handler"]
            assert props["TracingConfig"] == {"Mode": "Active"} and props["Runtime"] == "python3.12"
            assert set(props["Code"]) == {"S3Bucket", "S3Key"}
            group = resources[f"{logical_id}LogGroup"]["Properties"]
            assert group["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"
            assert group["RetentionInDays"] > 0


def test_no_secret_value_appears_in_any_template(rendered) -> None:
    for stage, service, template in all_templates(rendered):
        text = json.dumps(template)
        assert not SECRET_VALUE.search(text), f"{stage}/{service}"
        for resource in functions(template).values():
            for key in resource["Properties"]["Environment"]["Variables"]:
                assert not re.search(r"SECRET|PASSWORD|PRIVATE", key) or key.endswith(("_PARAM", "_PARAMETER")), key
