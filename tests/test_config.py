"""stagewise.toml → typed config: precedence layer against layer, and errors that name the key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stagewise.config import ConfigError, load_project, stage_name_for_branch

BASE = """
[app]
name = "notes"

[services]
api = "svc"
infra = { path = "infra", infra = true }

[accounts.dev]
id = "111111111111"
profile = "p-dev"

[accounts.prod]
id = "222222222222"
role_arn = "arn:aws:iam::222222222222:role/deployer"

[defaults]
account = "dev"
memory = 256
log_level = "INFO"
admin_phone = "+15555550100"

[stages.dev]
log_level = "DEBUG"
timeout = 20

[stages.prod]
account = "prod"
memory = 1024
protect = true

[ephemeral]
inherits = "dev"
infra_from = "dev"
secrets_from = "dev"
"""


def write_project(tmp_path: Path, text: str = BASE) -> Path:
    for folder in ("svc", "infra"):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "stack.py").write_text("def build(ctx): ...\n")
    manifest = tmp_path / "stagewise.toml"
    manifest.write_text(textwrap.dedent(text))
    return manifest


@pytest.fixture
def project(tmp_path):
    return load_project(write_project(tmp_path))


def test_defaults_apply_when_a_stage_sets_nothing(project):
    dev = project.stage("dev")
    assert dev.memory == 256  # from [defaults]
    assert dev.region == "us-east-1"  # from [app] (built-in default)
    assert dev.alarms is False  # built-in


def test_stage_layer_beats_defaults(project):
    assert project.stage("dev").log_level == "DEBUG"
    prod = project.stage("prod")
    assert (prod.account, prod.memory, prod.protect) == ("prod", 1024, True)


def test_cli_layer_beats_stage_layer(project):
    prod = project.stage("prod", {"memory": "2048", "log_level": "ERROR"})
    assert prod.memory == 2048
    assert prod.log_level == "ERROR"
    assert prod.account == "prod"  # untouched keys keep the stage's value


def test_ephemeral_stage_inherits_dev_then_ephemeral_layer(project):
    pr = project.stage("pr-42")
    assert pr.ephemeral is True
    assert pr.log_level == "DEBUG" and pr.timeout == 20  # dev's settings
    assert pr.infra_stage == "dev" and pr.secrets_from == "dev"
    assert pr.account == "dev"


def test_named_stage_owns_its_infra(project):
    assert project.stage("dev").infra_stage == "dev"
    assert project.stage("prod").infra_stage == "prod"


def test_unknown_key_names_file_key_and_allowed(tmp_path):
    manifest = write_project(tmp_path, BASE.replace("timeout = 20", "timout = 20"))
    with pytest.raises(ConfigError) as err:
        load_project(manifest)
    message = str(err.value)
    assert "stagewise.toml" in message and "[stages.dev]" in message
    assert "timout" in message and "timeout" in message  # what is allowed


def test_bad_value_names_the_key(tmp_path):
    manifest = write_project(tmp_path, BASE.replace("memory = 1024", "memory = 64"))
    with pytest.raises(ConfigError, match=r"\[stages.prod\].*memory.*128"):
        load_project(manifest)


def test_bad_cli_override_is_an_error(project):
    with pytest.raises(ConfigError, match="memory"):
        project.stage("dev", {"memory": "lots"})


def test_unknown_account_is_an_error(tmp_path):
    manifest = write_project(tmp_path, BASE.replace('account = "prod"', 'account = "staging"'))
    with pytest.raises(ConfigError, match="account 'staging'.*allowed: dev, prod"):
        load_project(manifest).stage("prod")


def test_service_without_stack_module_is_an_error(tmp_path):
    manifest = write_project(tmp_path, BASE.replace('api = "svc"', 'api = "nowhere"'))
    with pytest.raises(ConfigError, match="stack.py does not exist"):
        load_project(manifest)


def test_broken_toml_names_the_file(tmp_path):
    manifest = write_project(tmp_path, "[app\nname=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_project(manifest)


@pytest.mark.parametrize("name", ["Dev", "1abc", "a" * 21, "has_underscore", ""])
def test_bad_stage_names_are_refused(project, name):
    with pytest.raises(ConfigError, match="bad stage name"):
        project.stage(name)


@pytest.mark.parametrize(
    ("branch", "stage"),
    [("feature/Login_Form", "feature-login-form"), ("123-fix", "b-123-fix"), ("x" * 40, "x" * 20)],
)
def test_branch_names_become_valid_stage_names(branch, stage):
    assert stage_name_for_branch(branch) == stage


def test_the_repository_manifest_loads():
    project = load_project(Path(__file__).resolve().parents[1] / "stagewise.toml")
    assert project.stage("local").account == "dev"
    assert project.stage("prod").protect is True
