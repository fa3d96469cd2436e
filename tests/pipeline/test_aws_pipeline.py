"""The same runner with the aws provider over moto's CloudFormation (in process): deploy, skip with zero
write calls, change one stack. (moto fills no Outputs/exports after a change set, so these stacks
do not import from each other; the export graph is covered on the local provider.)"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from stagewise.config import load_project
from stagewise.pipeline.executor import Outcome
from stagewise.pipeline.progress import LineProgress
from stagewise.pipeline.runner import Runner, RunState, StageTarget
from stagewise.pipeline.store import PipelineStore
from stagewise.providers.aws import AwsProvider
from stagewise.target import Target
from tests.pipeline.conftest import FIXTURE
from tests.pipeline.test_runner_unit import release

READS = ("Get", "List", "Describe", "Head")


def topic(name: str) -> dict:
    return {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": name}}}}


@pytest.fixture
def aws_runner():
    with mock_aws():
        writes: list[str] = []

        def client(service: str):
            made = boto3.client(service, region_name="us-east-1")
            made.meta.events.register("before-call", lambda model, **_: None if model.name.startswith(READS)
                                      else writes.append(f"{service}:{model.name}"))
            return made

        store = PipelineStore(client("s3"), account_id="123456789012", region="us-east-1", account_name="dev")
        store.bootstrap()
        project = load_project(FIXTURE / "stagewise.toml")
        provider = AwsProvider(client("cloudformation"), poll=0, sleep=lambda s: None)
        st = StageTarget(project, project.stage("dev"), Target("123456789012", "us-east-1", False, client),
                         provider, store)
        yield (lambda: Runner(st, reporter=LineProgress(), confirm=lambda plan: True, command="test")), writes


def test_deploy_skip_and_change_through_change_sets(aws_runner):
    make, writes = aws_runner
    first = make().ship(release(one=topic("dev-one"), two=topic("dev-two")))
    assert first.state is RunState.SUCCEEDED
    assert {o.outcome for o in first.outcomes} == {Outcome.DEPLOYED}
    assert any(w == "cloudformation:ExecuteChangeSet" for w in writes)

    writes.clear()
    again = make().ship(release(one=topic("dev-one"), two=topic("dev-two")))
    assert again.state is RunState.NOTHING and writes == []

    changed = make().ship(release(one=topic("dev-one"), two=topic("dev-two-b")))
    assert {o.stack: o.outcome for o in changed.outcomes} == {"one": Outcome.SKIPPED, "two": Outcome.DEPLOYED}
