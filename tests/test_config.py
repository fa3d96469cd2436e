"""stagewise.toml → typed config: precedence layer against layer, and errors that name the key."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stagewise.config import ConfigError, load_project, stage_name_for_branch, stage_name_for_pr

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

[defaults.vars]
admin_phone = "+15555550100"
stripe_mode = "test"
greeting = "hi"
retries = 3

[stages.dev]
log_level = "DEBUG"
timeout = 20

[stages.dev.vars]
greeting = "hello dev"
retries = 5

[stages.prod]
account = "prod"
memory = 1024
protect = true

[stages.prod.vars]
admin_phone = "+15555550199"
stripe_mode = "live"

[ephemeral]
inherits = "dev"
infra_from = "dev"
secrets_from = "dev"

[ephemeral.vars]
retries = 1
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
    [("feature/Login_Form", "feature-login-form"), ("123-fix", "b-123-fix"), ("x" * 20, "x" * 20),
     ("refs/heads/feature/Login_Form", "feature-login-form"), ("feature/abcdefghijkl", "feature-abcdefghijkl")],
)
def test_branch_names_become_valid_stage_names(branch, stage):
    assert stage_name_for_branch(branch) == stage


def test_long_branch_names_get_a_hash_of_the_whole_name_and_never_meet():
    one = stage_name_for_branch("feature/a-very-long-branch-name-for-testing-collisions")
    other = stage_name_for_branch("feature/a-very-long-branch-name-for-testing-other")
    assert one != other
    assert one.startswith("feature-a-ver") and len(one) == 20
    assert one == stage_name_for_branch("refs/heads/feature/a-very-long-branch-name-for-testing-collisions")
    assert one == stage_name_for_branch("feature/a-very-long-branch-name-for-testing-collisions")  # stable
    for name in (one, other, stage_name_for_branch("x" * 40)):
        load_stage_name_ok(name)


def load_stage_name_ok(name: str) -> None:
    from stagewise.config import check_stage_name

    check_stage_name(name)


@pytest.mark.parametrize("branch", ["///", "___", "refs/heads/", "", "   "])
def test_a_branch_that_sanitises_to_nothing_is_refused(branch):
    with pytest.raises(ConfigError, match="no letters or digits.*--stage"):
        stage_name_for_branch(branch)


def test_a_tag_is_not_a_branch():
    with pytest.raises(ConfigError, match="not a branch"):
        stage_name_for_branch("refs/tags/v1.0")


@pytest.mark.parametrize(("number", "stage"), [("42", "pr-42"), (7, "pr-7"), (" 9 ", "pr-9")])
def test_pull_requests_become_pr_n(number, stage):
    assert stage_name_for_pr(number) == stage


@pytest.mark.parametrize("number", ["0", "-3", "abc", "4.2", "", "1e3", 0])
def test_a_pr_number_that_is_not_a_positive_integer_is_refused(number):
    with pytest.raises(ConfigError, match="not a positive integer"):
        stage_name_for_pr(number)


# Stage variables: the same precedence table, key by key.

def test_vars_named_stage_layer_beats_defaults_key_by_key(project):
    dev = project.stage("dev")
    assert dev.vars == {"admin_phone": "+15555550100", "stripe_mode": "test", "greeting": "hello dev", "retries": 5}
    prod = project.stage("prod")
    assert prod.vars["admin_phone"] == "+15555550199" and prod.vars["stripe_mode"] == "live"
    assert prod.vars["greeting"] == "hi"  # [defaults.vars]


def test_vars_ephemeral_layer_beats_inherited_stage_beats_defaults(project):
    pr = project.stage("pr-42")
    assert pr.vars["retries"] == 1  # [ephemeral.vars] over [stages.dev.vars] (5) over [defaults.vars] (3)
    assert pr.vars["greeting"] == "hello dev"  # [stages.dev.vars] over [defaults.vars]
    assert pr.vars["stripe_mode"] == "test"  # [defaults.vars]


def test_vars_cli_layer_beats_every_file_layer(project):
    pr = project.stage("pr-42", {"vars.retries": "9", "vars.extra": "x"})
    assert pr.vars["retries"] == "9" and pr.vars["extra"] == "x"
    assert pr.vars["greeting"] == "hello dev"


def test_resolve_names_the_layer_of_every_setting_and_variable(project):
    pr = project.resolve("pr-42", {"memory": "512", "vars.greeting": "yo"})
    assert pr.sources["memory"] == "--set"
    assert pr.sources["log_level"] == "[stages.dev]"
    assert pr.sources["infra_from"] == "[ephemeral]"
    assert pr.sources["account"] == "[defaults]"
    assert pr.sources["alarms"] == "default"
    assert pr.sources["region"] == "[app]"
    assert pr.var_sources == {"greeting": "--set", "retries": "[ephemeral.vars]",
                              "admin_phone": "[defaults.vars]", "stripe_mode": "[defaults.vars]"}
    prod = project.resolve("prod")
    assert prod.sources["protect"] == "[stages.prod]" and prod.var_sources["stripe_mode"] == "[stages.prod.vars]"


def test_an_ephemeral_stage_never_inherits_protect(tmp_path):
    text = BASE.replace('log_level = "DEBUG"\ntimeout = 20', 'log_level = "DEBUG"\ntimeout = 20\nprotect = true')
    resolved = load_project(write_project(tmp_path, text)).resolve("pr-1")
    assert resolved.config.protect is False and resolved.sources["protect"].startswith("default")


@pytest.mark.parametrize("key", ["admin-phone", "1st", "has space", "é"])
def test_a_var_that_is_not_an_identifier_is_one_line_naming_file_and_fix(tmp_path, key):
    manifest = write_project(tmp_path, BASE.replace('greeting = "hello dev"', f'"{key}" = "x"'))
    with pytest.raises(ConfigError) as err:
        load_project(manifest)
    message = str(err.value)
    assert "\n" not in message
    assert "stagewise.toml: [stages.dev.vars]" in message and f"'{key}' is not a valid variable name" in message
    assert "rename it" in message


def test_a_var_must_be_a_scalar(tmp_path):
    manifest = write_project(tmp_path, BASE.replace("retries = 1", "retries = [1, 2]"))
    with pytest.raises(ConfigError, match=r"\[ephemeral.vars\]: retries: a variable is a string, number or boolean"):
        load_project(manifest)


def test_unknown_keys_outside_vars_are_still_refused(tmp_path):
    manifest = write_project(tmp_path, BASE.replace('stripe_mode = "live"\n', 'stripe_mode = "live"\n')
                             .replace("protect = true", "protect = true\nstripe_mode = \"live\""))
    with pytest.raises(ConfigError) as err:
        load_project(manifest)
    message = str(err.value)
    assert "stagewise.toml: [stages.prod]: unknown key 'stripe_mode'" in message and "vars" in message


def test_a_bad_cli_var_name_or_unknown_setting_is_refused(project):
    with pytest.raises(ConfigError, match="'bad-name' is not a valid variable name"):
        project.stage("dev", {"vars.bad-name": "x"})
    with pytest.raises(ConfigError, match="unknown setting 'greeting'.*--set vars.greeting=VALUE"):
        project.stage("dev", {"greeting": "x"})


def test_admin_phone_is_not_a_setting_of_the_tool():
    from stagewise.config import StageConfig, StageSettings

    assert "admin_phone" not in StageSettings.model_fields and "admin_phone" not in StageConfig.model_fields


def test_admin_phone_as_a_setting_is_refused_naming_vars(tmp_path):
    text = BASE.replace("[defaults.vars]\nadmin_phone = \"+15555550100\"", "admin_phone = \"+15555550100\"\n[defaults.vars]")
    with pytest.raises(ConfigError, match="admin_phone"):
        load_project(write_project(tmp_path, text))


def test_the_repository_manifest_loads():
    project = load_project(Path(__file__).resolve().parents[1] / "stagewise.toml")
    assert project.stage("local").account == "dev"
    assert project.stage("prod").protect is True
    assert project.stage("prod").vars["admin_phone"] == "+15555550199"
    assert project.stage("pr-7").vars["admin_phone"] == "+15555550100"
