"""The AWS path rehearsed on the local cloud: a stage reached through its `[accounts]` entry (not
`--local`), with credentials from the environment (the profile is absent, as on a CI runner) and
every client pointed at the local cloud by AWS_ENDPOINT_URL — so the AWS target, its adaptive
retries, AWS polling and CloudFormation's API are exactly what a first real run executes."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewise.cloud import LocalCloud, credentials
from tests.pipeline.real_account import fixture_project, ship_noop_diff_remove

ACCOUNT = "111111111111"


def test_the_aws_target_ships_and_removes_a_stage_through_cloudformations_api(
        cloud: LocalCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in credentials(cloud.endpoint, ACCOUNT).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", cloud.endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("STAGEWISE_LOCAL", raising=False)
    ship_noop_diff_remove(fixture_project(tmp_path, ACCOUNT), tmp_path / "build")
