"""Worker templates started from the rendered stacks, before the deploy (runtime/early_templates.py):
their provisional environments, when deployed functions fit them, and that a misfit is replaced."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from stagewise.runtime.early_templates import provisional_functions
from stagewise.runtime.model import FunctionSpec
from stagewise.runtime.template import Template
from stagewise.runtime.workers import WorkerSet, worker_environment
from tests.runtime.stacks import FIXTURE_APP

BASE = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "LKIA", "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}


def _function(name: str, variables: dict) -> dict:
    return {"Type": "AWS::Lambda::Function",
            "Metadata": {"stagewise": {"source": "services/echo"}},
            "Properties": {"FunctionName": f"local-app-{name}", "Handler": "echo_fn.handlers.echo",
                           "Runtime": "python3.12", "MemorySize": 256, "Timeout": 5,
                           "Environment": {"Variables": variables}}}


RENDERED = {"api": {"Resources": {
    "One": _function("one", {"STAGE": "local", "TABLE": {"Ref": "Table"}}),
    "Two": _function("two", {"STAGE": "local", "TABLE": {"Ref": "Table"}}),
    "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
}}}


def _provisional() -> dict[str, FunctionSpec]:
    return provisional_functions(RENDERED, repo_root=FIXTURE_APP, region="eu-west-1", account_id="111111111111")


def _deployed(spec: FunctionSpec, **variables: str) -> FunctionSpec:
    """The function as the deploy resolves it: its real name and ARN, its variables' values."""
    name = spec.name
    return dataclasses.replace(spec, logical_id=spec.logical_id.split("/")[1],
                               arn=f"arn:aws:lambda:eu-west-1:111111111111:function:{name}",
                               environment={**spec.environment, **variables})


def _template(functions: dict[str, FunctionSpec]) -> Template:
    envs = {key: worker_environment(spec, base=BASE, region="eu-west-1") for key, spec in functions.items()}
    return Template("python3.12", envs=envs, source_dirs=[s.source_dir for s in functions.values()], roots=[],
                    log=lambda line: None)


def test_literal_values_are_kept_and_resolved_ones_vary_per_function():
    functions = _provisional()
    assert sorted(functions) == ["api/One", "api/Two"]
    one, two = functions["api/One"], functions["api/Two"]
    assert one.environment["STAGE"] == two.environment["STAGE"] == "local"
    assert one.environment["TABLE"] != two.environment["TABLE"]  # unknown before the deploy: treated as varying
    assert one.source_dir == (FIXTURE_APP / "services/echo").resolve() and one.memory_mb == 256


def test_deployed_functions_fit_the_template_of_their_rendered_stacks():
    template = _template(_provisional())
    deployed = [_deployed(spec, TABLE="local-app-table") for spec in _provisional().values()]
    envs = [worker_environment(spec, base=BASE, region="eu-west-1") for spec in deployed]
    assert template.fits(envs, [spec.source_dir for spec in deployed])


def test_a_variable_the_template_did_not_expect_or_a_changed_value_does_not_fit():
    template = _template(_provisional())
    deployed = [_deployed(spec, TABLE="t") for spec in _provisional().values()]
    dirs = [spec.source_dir for spec in deployed]

    def envs(**changes: str) -> list[dict]:
        return [worker_environment(dataclasses.replace(spec, environment={**spec.environment, **changes}),
                                   base=BASE, region="eu-west-1") for spec in deployed]

    assert not template.fits(envs(STRIPE_API_BASE="http://127.0.0.1:1"), dirs)  # added at run time, unforeseen
    assert not template.fits(envs(STAGE="dev"), dirs)  # the template imported with STAGE=local
    assert not template.fits([{k: v for k, v in env.items() if k != "AWS_XRAY_DAEMON_ADDRESS"} for env in envs()],
                             dirs)  # the template had the daemon's address; this worker would not
    assert not template.fits(envs(), [*dirs, Path("/elsewhere")])  # a layer it did not preload from


def test_worker_set_keeps_a_fitting_template_and_replaces_one_that_does_not():
    provisional = _provisional()
    deployed = {spec.logical_id.split("/")[1]: _deployed(spec, TABLE="t") for spec in provisional.values()}
    early = _template(provisional)
    workers = WorkerSet(deployed, base_env=BASE, repo_root=FIXTURE_APP, region="eu-west-1", log=lambda line: None,
                        templates={"python3.12": early})
    try:
        assert workers.templates["python3.12"] is early
    finally:
        workers.stop()
    misfit = _template({key: dataclasses.replace(spec, environment={"STAGE": "dev"})
                        for key, spec in provisional.items()})
    lines: list[str] = []
    workers = WorkerSet(deployed, base_env=BASE, repo_root=FIXTURE_APP, region="eu-west-1", log=lines.append,
                        templates={"python3.12": misfit})
    try:
        assert workers.templates["python3.12"] is not misfit
        assert any("starting it again" in line for line in lines)
    finally:
        workers.stop()
