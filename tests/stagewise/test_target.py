"""Credentials of an AWS target (`stagewise.target._aws_target`), against a running local cloud.

boto3 honours AWS_ENDPOINT_URL, so the AWS code path runs unchanged against the local cloud: the
simulated accounts' keys stand in for a CI runner's environment credentials, and moto's IAM/STS
serve the role a `role_arn` account assumes. The AWS config and credentials files are temp files.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.credentials import RefreshableCredentials

from stagewise.cloud import LocalCloud, client, credentials
from stagewise.config import load_project
from stagewise.errors import UserError
from stagewise.target import ROLE_SESSION_NAME, _aws_target
from stagewise.testing import running_cloud

DEV, OTHER = "111111111111", "222222222222"
REGION = "us-east-1"
ENV_CREDENTIALS = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CREDENTIAL_EXPIRATION",
)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    with running_cloud(tmp_path_factory.mktemp("target") / "cloud") as local:
        yield local


@pytest.fixture
def aws_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud) -> Path:
    """No AWS credentials anywhere but what a test puts there; every AWS call goes to the local cloud."""
    for name in ENV_CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "aws"
    home.mkdir()
    (home / "config").write_text("[profile someone-else]\nregion = us-east-1\n")
    (home / "credentials").write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", cloud.endpoint)
    return home


def env_credentials(monkeypatch: pytest.MonkeyPatch, cloud: LocalCloud, account_id: str) -> dict[str, str]:
    keys = credentials(cloud.endpoint, account_id)
    for name, value in keys.items():
        monkeypatch.setenv(name, value)
    return keys


def stage_of(tmp_path: Path, account: str):
    (tmp_path / "api").mkdir(exist_ok=True)
    (tmp_path / "api" / "stack.py").write_text("")
    (tmp_path / "stagewise.toml").write_text(
        f'[app]\nname = "shop"\n\n[services]\napi = "api"\n\n[accounts.dev]\nid = "{DEV}"\n{account}\n\n'
        '[defaults]\naccount = "dev"\n\n[stages.dev]\n'
    )
    project = load_project(tmp_path / "stagewise.toml")
    return project, project.stage("dev")


def test_a_missing_profile_uses_the_environments_credentials_and_reaches_the_account(
        aws_home, monkeypatch, cloud, tmp_path):
    env_credentials(monkeypatch, cloud, DEV)
    project, stage = stage_of(tmp_path, 'profile = "shop-dev"')  # not in the config files: a CI runner

    target = _aws_target(project, stage)

    assert target.account_id == DEV and not target.local
    assert target.client("sts").get_caller_identity()["Account"] == DEV
    target.client("s3").create_bucket(Bucket="reached-through-env")
    names = {b["Name"] for b in client(cloud.endpoint, account_id=DEV, region=REGION, service="s3")
             .list_buckets()["Buckets"]}
    assert "reached-through-env" in names


def test_environment_credentials_for_another_account_are_refused_naming_what_was_tried(
        aws_home, monkeypatch, cloud, tmp_path):
    env_credentials(monkeypatch, cloud, OTHER)
    project, stage = stage_of(tmp_path, 'profile = "shop-dev"')

    with pytest.raises(UserError) as refused:
        _aws_target(project, stage)

    message = str(refused.value)
    assert "\n" not in message
    assert f"reaches account {OTHER}" in message and f"'dev' is {DEV}" in message
    assert "the default credential chain (env; profile 'shop-dev' is not configured here)" in message


def test_a_missing_profile_and_no_credentials_says_to_configure_one_or_the_other(aws_home, tmp_path):
    project, stage = stage_of(tmp_path, 'profile = "shop-dev"')

    with pytest.raises(UserError) as refused:
        _aws_target(project, stage)

    message = str(refused.value)
    assert "\n" not in message
    assert "profile 'shop-dev'" in message and str(aws_home / "config") in message
    assert "aws configure --profile shop-dev" in message and "set credentials" in message


def test_an_existing_profile_is_used_and_every_client_retries_adaptively(aws_home, monkeypatch, cloud, tmp_path):
    keys = credentials(cloud.endpoint, DEV)
    (aws_home / "credentials").write_text(
        f"[shop-dev]\naws_access_key_id = {keys['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {keys['AWS_SECRET_ACCESS_KEY']}\naws_session_token = {keys['AWS_SESSION_TOKEN']}\n"
    )
    env_credentials(monkeypatch, cloud, OTHER)  # the profile wins over the environment
    project, stage = stage_of(tmp_path, 'profile = "shop-dev"')

    target = _aws_target(project, stage)

    assert target.client("sts").get_caller_identity()["Account"] == DEV
    for service in ("cloudformation", "s3", "sts", "ssm"):
        # Config(retries={"mode": "adaptive", "max_attempts": 10}): 10 retries after the first attempt
        assert target.client(service).meta.config.retries == {"mode": "adaptive", "total_max_attempts": 11}


def test_role_credentials_renew_themselves_when_they_expire(aws_home, monkeypatch, cloud, tmp_path):
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "sts:AssumeRole"}]}
    iam = client(cloud.endpoint, account_id=DEV, region=REGION, service="iam")
    role_arn = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    keys = credentials(cloud.endpoint, OTHER)  # the CI account's keys, in a profile
    (aws_home / "credentials").write_text(
        f"[ci]\naws_access_key_id = {keys['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {keys['AWS_SECRET_ACCESS_KEY']}\naws_session_token = {keys['AWS_SESSION_TOKEN']}\n"
    )
    project, stage = stage_of(tmp_path, f'profile = "ci"\nrole_arn = "{role_arn}"')

    target = _aws_target(project, stage)
    sts = target.client("sts")
    first = sts.get_caller_identity()
    assert first["Account"] == DEV
    assert first["Arn"].endswith(f":assumed-role/deployer/{ROLE_SESSION_NAME}")
    creds = sts._request_signer._credentials  # what this client signs with
    assert isinstance(creds, RefreshableCredentials)
    first_key = creds.get_frozen_credentials().access_key

    creds._expiry_time = datetime.now(UTC) - timedelta(minutes=1)  # an hour later, in a long deploy
    assert creds.refresh_needed()
    again = sts.get_caller_identity()  # the same client: its credentials renewed themselves

    assert again["Account"] == DEV and again["Arn"] == first["Arn"]
    renewed = creds.get_frozen_credentials().access_key
    assert renewed != first_key and not creds.refresh_needed()
