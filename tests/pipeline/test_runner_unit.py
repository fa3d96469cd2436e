"""Runner flows over the in-memory provider and moto S3 (in process): Ctrl-C, decline, parallel phases."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from stagewise.build.git import GitState
from stagewise.build.record import BuildRecord, BuildResult
from stagewise.config import load_project
from stagewise.pipeline.executor import Outcome
from stagewise.pipeline.history import Kind, StackEntry
from stagewise.pipeline.progress import LineProgress
from stagewise.pipeline.runner import Runner, RunState, StageTarget
from stagewise.pipeline.source import Release
from stagewise.pipeline.store import PipelineStore
from stagewise.target import Target
from tests.pipeline.conftest import FIXTURE
from tests.pipeline.fakes import FakeProvider


def stack(*, exports=(), imports=(), value="v"):
    resources = {"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Value": value}}}
    for i, name in enumerate(imports):
        resources[f"I{i}"] = {"Type": "AWS::SSM::Parameter", "Properties": {"Value": {"Fn::ImportValue": name}}}
    outputs = {n.rpartition("-")[2]: {"Value": "x", "Export": {"Name": n}} for n in exports}
    return {"Resources": resources, "Outputs": outputs}


def release(**stacks) -> Release:
    entries = {name.replace("_", "-"): StackEntry(name, template) for name, template in stacks.items()}
    record = BuildRecord.create(stage="dev", git=GitState("abc", False), functions=[],
                                templates={n: n for n in entries})
    return Release("dev", Kind.DEPLOY, entries, record)


BASE = {"a": stack(exports=["dev-x-a-A"]), "b": stack(imports=["dev-x-a-A"]), "c": stack(imports=["dev-x-a-A"])}


@pytest.fixture
def runner_for():
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        store = PipelineStore(s3, account_id="111111111111", region="us-east-1", account_name="dev")
        store.bootstrap()
        project = load_project(FIXTURE / "stagewise.toml")

        def make(provider: FakeProvider, *, confirm: bool = True) -> Runner:
            target = Target("111111111111", "us-east-1", True, lambda service: s3)
            st = StageTarget(project, project.stage("dev"), target, provider, store)
            return Runner(st, reporter=LineProgress(), confirm=lambda plan: confirm, command="test")

        yield make


def test_stacks_of_one_phase_deploy_together_and_a_decline_changes_nothing(runner_for):
    provider = FakeProvider()
    declined = runner_for(provider, confirm=False).ship(release(**BASE))
    assert declined.state is RunState.CANCELLED and declined.exit_code == 4 and provider.applied == []
    result = runner_for(provider).ship(release(**BASE))
    assert result.state is RunState.SUCCEEDED
    assert [(o.stack, o.phase) for o in result.outcomes] == [("a", 0), ("b", 1), ("c", 1)]


def test_ctrl_c_records_the_build_failed_and_releases_the_lock(runner_for):
    provider = FakeProvider()
    runner_for(provider).ship(release(**BASE))
    changed = dict(BASE, b=stack(imports=["dev-x-a-A"], value="new"))
    interrupted = FakeProvider(interrupt={"b"})
    interrupted.stacks = dict(provider.stacks)
    runner = runner_for(interrupted)
    with pytest.raises(KeyboardInterrupt):
        runner.ship(release(**changed))
    history = runner.st.history
    last = history.load("dev", history.ids("dev")[-1])
    assert last.result is BuildResult.FAILED and last.build.message == "interrupted by Ctrl-C"
    assert runner.st.store.lock_holder("dev") is None and history.running("dev") is None


def test_a_failure_marks_only_dependents_of_later_phases(runner_for):
    provider = FakeProvider(fail={"a"})
    result = runner_for(provider).ship(release(**BASE))
    assert {o.stack: o.outcome for o in result.outcomes} == {
        "a": Outcome.FAILED, "b": Outcome.NOT_RUN, "c": Outcome.NOT_RUN}
    assert result.exit_code == 1 and runner_for(provider).st.history.live("dev").build is None
