"""The shipping commands as a user runs them: exit codes, messages, --json, against a local cloud.

The CLI finds the local cloud through stagewise.target; the only patch is at that process edge:
`stagewise.cloud.LocalCloud` is pointed at the test's free port.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from stagewise.cli import app
from stagewise.config import ConfigError
from stagewise.errors import UserError
from tests.pipeline.conftest import set_knobs


@pytest.fixture
def cli(cloud, project_dir, monkeypatch):
    # The cloud records its port in its state dir, so the commands find it from STAGEWISE_STATE_DIR.
    monkeypatch.setenv("STAGEWISE_PROJECT", str(project_dir))
    monkeypatch.setenv("STAGEWISE_STATE_DIR", str(cloud.state_dir))
    monkeypatch.delenv("STAGEWISE_LOCAL", raising=False)

    def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, list(args), input=stdin)
        if isinstance(result.exception, (UserError, ConfigError)):  # what stagewise.cli.main does
            return getattr(result.exception, "exit_code", 2), result.stdout, str(result.exception)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def test_deploy_diff_builds_stages_remove(cli):
    code, out, _ = cli("bootstrap", "--account", "dev", "--local")
    assert code == 0 and "stagewise-111111111111-us-east-1-artifacts" in out

    code, out, _ = cli("diff", "--stage", "dev", "--local")
    assert code == 0
    assert "dev-shop-infra: create" in out and "+ add     Table [AWS::DynamoDB::Table]" in out

    code, out, _ = cli("deploy", "--stage", "dev", "--local", "--yes", "--json")
    assert code == 0, out
    result = json.loads(out)
    assert result["result"] == "succeeded"
    assert [(s["stack"], s["outcome"]) for s in result["stacks"]] == [
        ("dev-shop-infra", "deployed"), ("dev-shop-api", "deployed"), ("dev-shop-job", "deployed")]
    assert all(s["seconds"] > 0 for s in result["stacks"])

    code, out, _ = cli("deploy", "--stage", "dev", "--local", "--json")  # no --yes needed: nothing to do
    assert code == 0 and json.loads(out)["result"] == "nothing-to-do"
    code, out, _ = cli("diff", "--stage", "dev", "--local")
    assert out.count(": unchanged") == 3

    code, out, _ = cli("builds", "dev", "--local", "--json")
    builds = json.loads(out)
    assert code == 0 and [(b["result"], b["live"]) for b in builds] == [("SUCCEEDED", True)]

    code, out, _ = cli("stages", "--local", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["dev"]["live_build"] == builds[0]["id"] and rows["prod"]["live_build"] is None

    code, _, err = cli("rollback", "dev", "--local", "--yes")
    assert code == 2 and "no earlier successful build" in err

    code, out, _ = cli("remove", "dev", "--local", "--yes")
    assert code == 0, out
    assert "aws dynamodb delete-table --table-name dev-shop-items --endpoint-url http://127.0.0.1:" in out


def test_deploy_before_bootstrap_names_the_command(cli):
    code, _, err = cli("deploy", "--stage", "dev", "--local", "--yes")
    assert code == 2 and "run: stagewise bootstrap --account dev" in err.lower()


def test_deploy_without_a_terminal_needs_yes(cli):
    cli("bootstrap", "--account", "dev", "--local")
    code, out, err = cli("deploy", "--stage", "dev", "--local")
    assert code == 2 and "--yes" in err
    assert "dev-shop-infra: create" in out  # the plan was shown


def test_a_failing_stack_exits_1_and_says_what_did_not_run(cli, project_dir):
    cli("bootstrap", "--account", "dev", "--local")
    set_knobs(project_dir, "api", fail=True)
    code, out, _ = cli("deploy", "--stage", "dev", "--local", "--yes", "--json")
    assert code == 1
    stacks = {s["stack"]: s for s in json.loads(out)["stacks"]}
    assert stacks["dev-shop-api"]["outcome"] == "failed"
    assert stacks["dev-shop-job"] == {**stacks["dev-shop-job"], "outcome": "not-run",
                                      "reason": "not run: dev-shop-api failed"}


def test_a_missing_secret_stops_before_any_stack(cli, project_dir, cloud):
    cli("bootstrap", "--account", "dev", "--local")
    set_knobs(project_dir, "api", secret=True)
    code, _, err = cli("deploy", "--stage", "dev", "--local", "--yes")
    assert code == 2 and "FIXTURE_TOKEN" in err and "nothing was deployed" in err
    code, out, _ = cli("builds", "dev", "--local")
    assert code == 2  # no build was even recorded


def test_an_invalid_template_is_named_and_nothing_is_touched(cli, project_dir):
    cli("bootstrap", "--account", "dev", "--local")
    set_knobs(project_dir, "api", invalid=True)
    code, _, err = cli("deploy", "--stage", "dev", "--local", "--yes")
    assert code == 2 and "dev-shop-api" in err and "AWS::EC2::VPC" in err
    code, _, _ = cli("builds", "dev", "--local")
    assert code == 2


def test_an_export_cycle_is_named(cli, project_dir):
    cli("bootstrap", "--account", "dev", "--local")
    set_knobs(project_dir, "infra", cycle=True)
    code, _, err = cli("deploy", "--stage", "dev", "--local", "--yes")
    assert code == 2 and "cycle" in err
    assert "dev-shop-infra → dev-shop-job" in err or "dev-shop-api → dev-shop-infra" in err


def test_a_protected_stage_is_not_removed_without_force(cli):
    code, _, err = cli("remove", "prod", "--local", "--yes")
    assert code == 2 and "protected" in err and "--force" in err


def test_missing_aws_credentials_name_the_profile(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    code, _, err = cli("deploy", "--stage", "dev", "--yes")
    assert code == 2 and "profile 'shop-dev'" in err and "--local" in err


def test_an_unknown_stage_has_no_builds(cli):
    cli("bootstrap", "--account", "dev", "--local")
    code, _, err = cli("builds", "nosuch", "--local")
    assert code == 2 and "stage 'nosuch' has no builds" in err
    code, _, err = cli("deploy", "--stage", "Bad_Name", "--local")
    assert code == 2 and "bad stage name" in err
