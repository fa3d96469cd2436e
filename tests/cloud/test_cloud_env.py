"""`stagewise cloud env`: the exports that make any AWS SDK or CLI act as one simulated account,
run as a user runs it (a subprocess, its output eval'ed by a shell) against a running test cloud."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stagewise.cloud import LocalCloud, credentials
from tests.cloud.conftest import ACCOUNT_A, ACCOUNT_B, make_client

# What the eval'ed environment runs: plain boto3 with nothing but the environment to go on.
PROBE = (
    "import boto3, json, os; "
    "print(json.dumps({'account': boto3.client('sts').get_caller_identity()['Account'], "
    "'buckets': [b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']], "
    "'region': boto3.session.Session().region_name}))"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "api").mkdir(parents=True)
    (root / "api" / "stack.py").write_text("")
    (root / "stagewise.toml").write_text(
        '[app]\nname = "shop"\nregion = "eu-west-1"\n\n[services]\napi = "api"\n\n'
        f'[accounts.dev]\nid = "{ACCOUNT_A}"\nprofile = "shop-dev"\n\n'
        f'[accounts.prod]\nid = "{ACCOUNT_B}"\nprofile = "shop-prod"\n\n'
        '[defaults]\naccount = "dev"\n\n[stages.local]\n\n[stages.prod]\naccount = "prod"\n'
    )
    return root


def shell_env(project: Path, state_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(STAGEWISE_PROJECT=str(project), STAGEWISE_STATE_DIR=str(state_dir), AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE=str(project / "no-config"), AWS_SHARED_CREDENTIALS_FILE=str(project / "no-creds"))
    return env


def stagewise(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stagewise.cli", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def eval_then_probe(args: str, env: dict[str, str]) -> dict[str, object]:
    script = f'eval "$("$PY" -m stagewise.cli cloud env {args})" && exec "$PY" -c "$PROBE"'
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60, check=False,
                          env={**env, "PY": sys.executable, "PROBE": PROBE})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_eval_of_its_output_makes_boto3_act_as_that_account(cloud: LocalCloud, project: Path) -> None:
    make_client(cloud, "s3", ACCOUNT_A).create_bucket(Bucket="dev-only")
    make_client(cloud, "s3", ACCOUNT_B).create_bucket(Bucket="prod-only")
    env = shell_env(project, cloud.state_dir)

    as_local = eval_then_probe("", env)  # default: the local stage's account (dev)
    assert as_local == {"account": ACCOUNT_A, "buckets": ["dev-only"], "region": "eu-west-1"}
    as_prod = eval_then_probe("--account prod", env)
    assert as_prod == {"account": ACCOUNT_B, "buckets": ["prod-only"], "region": "eu-west-1"}


def test_lines_are_shell_exports_and_json_is_the_same_values(cloud: LocalCloud, project: Path) -> None:
    env = shell_env(project, cloud.state_dir)
    text = stagewise("cloud", "env", "--account", "prod", env=env)
    as_json = stagewise("cloud", "env", "--account", "prod", "--json", env=env)
    assert text.returncode == 0 and as_json.returncode == 0, text.stderr + as_json.stderr

    keys = credentials(cloud.endpoint, ACCOUNT_B)
    expected = {"AWS_ENDPOINT_URL": cloud.endpoint, **keys, "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert json.loads(as_json.stdout) == expected
    lines = text.stdout.splitlines()
    assert all(line.startswith("export ") for line in lines)
    assert dict(line.removeprefix("export ").split("=", 1) for line in lines) == expected  # nothing needs quoting


def test_a_stopped_cloud_and_an_unknown_account_are_one_line_errors(cloud: LocalCloud, project: Path,
                                                                    tmp_path: Path) -> None:
    unknown = stagewise("cloud", "env", "--account", "staging", env=shell_env(project, cloud.state_dir))
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert unknown.stderr.splitlines() == [
        f"error: no account 'staging' in {project / 'stagewise.toml'}; known accounts: dev, prod"]

    stopped = stagewise("cloud", "env", env=shell_env(project, tmp_path / "no-cloud"))
    assert stopped.returncode == 2 and stopped.stdout == ""
    assert len(stopped.stderr.splitlines()) == 1
    assert "is not running; start it with `stagewise cloud start`" in stopped.stderr


def test_help_shows_the_eval_example() -> None:
    from typer.testing import CliRunner

    from stagewise.cli import app

    result = CliRunner().invoke(app, ["cloud", "env", "--help"])
    assert result.exit_code == 0
    assert 'eval "$(stagewise cloud env)"' in result.output and "aws cloudformation describe-stacks" in result.output
