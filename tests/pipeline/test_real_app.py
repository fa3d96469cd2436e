"""The real app (infra, notes-api, billing-api, notify-job) through the pipeline on a local cloud:
all four stacks from empty in export order, each function listing its service's dependency layer,
then a no-op deploy with zero write calls; promoted to prod with the same code and layer keys."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from stagewise.cloud import client
from stagewise.config import load_project
from stagewise.domains import delegate, ensure_zone
from stagewise.localstage import LocalStage
from stagewise.pipeline.executor import Outcome
from stagewise.pipeline.runner import RunState
from stagewise.pipeline.source import build_release
from stagewise.provisioner import Provisioner
from tests.helpers import make_repo
from tests.pipeline.conftest import Stages

REPO = Path(__file__).resolve().parents[2]
IGNORED = shutil.ignore_patterns(".git", ".venv", ".stagewise", "__pycache__", "*.pyc", "tests", ".pytest_cache")


@pytest.fixture
def app_stages(cloud, calls, tmp_path) -> Stages:
    root = tmp_path / "app"
    root.mkdir()
    shutil.copy(REPO / "stagewise.toml", root / "stagewise.toml")
    for folder in ("infra", "services", "libs"):
        shutil.copytree(REPO / folder, root / folder, ignore=IGNORED)
    project = load_project(root / "stagewise.toml")
    route53 = {name: client(cloud.endpoint, account_id=account.id, region="us-east-1", service="route53")
               for name, account in project.accounts.items()}
    ensure_zone(route53["prod"], str(project.stage("prod").domain), comment="test")  # docs/domains.md, once per team
    delegate(route53["prod"], route53["dev"], name=str(project.stage("dev").domain), parent_account="prod", fix="")
    return Stages(cloud, project, calls)


def test_the_app_deploys_in_export_order_and_a_rerun_writes_nothing(app_stages, calls, tmp_path):
    project = app_stages.project
    config = project.stage("dev")
    target = app_stages.target("dev")
    target.store.bootstrap()

    def release():
        return build_release(project, config, account_id=target.target.account_id, out_dir=tmp_path / "build")

    result = app_stages.runner("dev").ship(release())
    assert result.state is RunState.SUCCEEDED, [o.reason for o in result.outcomes]
    order = [o.stack for o in result.outcomes]
    assert order.index("dev-notes-infra") < order.index("dev-notes-notes-api")
    if "dev-notes-billing-api" in order:
        assert order.index("dev-notes-notes-api") < order.index("dev-notes-billing-api")
    if "dev-notes-notify-job" in order and "dev-notes-billing-api" in order:
        assert order.index("dev-notes-billing-api") < order.index("dev-notes-notify-job")

    provisioner = Provisioner(target.target.client, account_id=target.target.account_id, region=config.region)
    for stack in ("dev-notes-notes-api", "dev-notes-billing-api", "dev-notes-notify-job"):
        state = provisioner.describe(stack)
        layers = {r.physical_id for r in state.resources.values() if r.type == "AWS::Lambda::LayerVersion"}
        functions = [r for r in state.resources.values() if r.type == "AWS::Lambda::Function"]
        assert len(layers) == 1 and functions, stack
        assert all(set(f.properties["Layers"]) == layers for f in functions), stack

    assert "dev-notes-notes-api-stage" in {s.name for s in LocalStage(project, config, target.target).states()}

    calls.clear()
    again = app_stages.runner("dev").ship(release())
    assert again.state is RunState.NOTHING
    assert {o.outcome for o in again.outcomes} == {Outcome.SKIPPED}
    assert calls.writes() == []


def test_cloud_env_makes_plain_boto3_list_the_stage_stacks_and_exports(app_stages, tmp_path):
    """What the issue asks for, as a user does it: `stagewise cloud env` in, any AWS SDK out."""
    project, target = app_stages.project, app_stages.target("dev")
    target.store.bootstrap()
    release = build_release(project, project.stage("dev"), account_id=target.target.account_id, out_dir=tmp_path / "b")
    assert app_stages.runner("dev").ship(release).state is RunState.SUCCEEDED
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(STAGEWISE_PROJECT=str(project.root), STAGEWISE_STATE_DIR=str(app_stages.cloud.state_dir))
    done = subprocess.run([sys.executable, "-m", "stagewise.cli", "cloud", "env", "--account", "dev", "--json"],
                          capture_output=True, text=True, env=env, timeout=60, check=True)
    values = json.loads(done.stdout)
    cfn = boto3.session.Session().client(
        "cloudformation", endpoint_url=values["AWS_ENDPOINT_URL"], region_name=values["AWS_REGION"],
        aws_access_key_id=values["AWS_ACCESS_KEY_ID"], aws_secret_access_key=values["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=values.get("AWS_SESSION_TOKEN"))
    stacks = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
    assert {name for name in stacks if name.startswith("dev-notes-")} == {
        "dev-notes-infra", "dev-notes-notes-api", "dev-notes-billing-api", "dev-notes-notify-job",
        "dev-notes-notes-api-stage", "dev-notes-domain"}
    assert set(stacks.values()) == {"CREATE_COMPLETE"}
    exports = {e["Name"] for e in cfn.get_paginator("list_exports").paginate().build_full_result()["Exports"]}
    assert {"dev-notes-infra-TableName", "dev-notes-notes-api-RestApiId"} <= exports


def test_the_app_promotes_from_dev_to_prod_in_another_account(app_stages, tmp_path):
    from stagewise.pipeline.promote import promote

    project = app_stages.project
    make_repo(project.root)  # promote ships a build made from a commit, at that commit
    dev = app_stages.target("dev")
    dev.store.bootstrap()
    release = build_release(project, project.stage("dev"), account_id=dev.target.account_id, out_dir=tmp_path / "b")
    assert app_stages.runner("dev").ship(release).state is RunState.SUCCEEDED
    prod = app_stages.target("prod")
    prod.store.bootstrap()
    result = promote(dev, app_stages.runner("prod"))
    assert result.state is RunState.SUCCEEDED, [o.reason for o in result.outcomes]
    assert all(o.stack.startswith("prod-notes-") for o in result.outcomes)
    shipped = prod.history.live_record("prod")
    assert {f.code_key for f in shipped.build.functions} == {f.code_key for f in release.record.functions}
    assert {f.layer_key for f in shipped.build.functions} == {f.layer_key for f in release.record.functions}
    assert all(f.layer_key for f in shipped.build.functions)
    assert prod.target.account_id != dev.target.account_id
