"""`stagewise config`: every resolved setting and variable of a stage, with where it came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stagewise.cli import app
from stagewise.config import ConfigError
from stagewise.errors import UserError

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def repository_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGEWISE_PROJECT", str(REPO / "stagewise.toml"))
    monkeypatch.delenv("STAGEWISE_LOCAL", raising=False)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["config", *args])
    if isinstance(result.exception, (UserError, ConfigError)):  # what stagewise.cli.main prints
        return 2, str(result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout


def test_a_pr_stage_explains_every_value() -> None:
    code, out = run("--stage", "pr-7", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["stage"] == "pr-7" and report["kind"] == "ephemeral, inherits dev"
    assert report["account"] == {"name": "dev", "id": "111111111111", "from": "[defaults]",
                                 "reached": "profile 'notes-dev' (else the default credential chain, e.g. CI's OIDC role)"}
    assert report["infra"] == {"stage": "dev", "stacks": ["dev-notes-infra"], "borrowed": True}
    assert report["secrets"] == {"own": "pr-7", "falls_back_to": "dev", "lookup": ["/notes/pr-7/*", "/notes/dev/*"]}
    settings = report["settings"]
    assert settings["log_level"] == {"value": "DEBUG", "from": "[stages.dev]"}
    assert settings["infra_from"] == {"value": "dev", "from": "[ephemeral]"}
    assert settings["memory"] == {"value": 256, "from": "[defaults]"}
    assert settings["region"] == {"value": "us-east-1", "from": "[app]"}
    assert settings["domain"] == {"value": "pr-7.dev.api.example.com", "from": "pr-7. + [stages.dev]"}  # under dev's
    assert report["vars"] == {"admin_phone": {"value": "+15555550100", "from": "[defaults.vars]"}}


def test_set_is_shown_as_the_source_and_pr_names_the_same_stage() -> None:
    code, out = run("--pr", "7", "--set", "memory=1024", "--set", "vars.admin_phone=+15555550123", "--json")
    report = json.loads(out)
    assert code == 0 and report["stage"] == "pr-7"
    assert report["settings"]["memory"] == {"value": 1024, "from": "--set"}
    assert report["vars"]["admin_phone"] == {"value": "+15555550123", "from": "--set"}


def test_prod_is_its_own_account_infra_and_secrets_as_text() -> None:
    code, out = run("--stage", "prod")
    assert code == 0
    assert "account  prod (222222222222) via profile 'notes-prod'" in out and "(from [stages.prod])" in out
    assert "infra    its own stacks: prod-notes-infra" in out
    assert "secrets  /notes/prod/*  (no fallback)" in out
    lines = out.splitlines()
    assert any(line.split() == ["protect", "true", "[stages.prod]"] for line in lines)
    assert any(line.split() == ["admin_phone", "+15555550199", "[stages.prod.vars]"] for line in lines)


def test_local_says_the_simulated_account() -> None:
    _, out = run("--stage", "dev", "--local", "--json")
    assert json.loads(out)["account"]["reached"] == "the local cloud's simulated account 111111111111 (--local)"


@pytest.mark.parametrize(("args", "message"), [
    ((), "exactly one of --stage NAME, --pr N or --branch BRANCH"),
    (("--stage", "dev", "--pr", "3"), "got --stage and --pr"),
    (("--pr", "0"), "'0' is not a positive integer"),
    (("--branch", "///"), "no letters or digits"),
    (("--stage", "Bad_Name"), "bad stage name"),
    (("--stage", "dev", "--set", "nosuch=1"), "unknown setting 'nosuch'"),
])
def test_bad_input_is_one_line(args: tuple[str, ...], message: str) -> None:
    code, err = run(*args)
    assert code == 2 and message in err and "\n" not in err
