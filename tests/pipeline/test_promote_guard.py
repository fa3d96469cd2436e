"""Promote ships what SRC tested: it refuses, before touching anything, unless the working tree is
SRC's build commit and clean (or when that build was made from a dirty tree), and it never ships
a template that still holds an `unbuilt/` code key. The fixture project is a git repo in a tmp dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewise.config import load_project
from stagewise.errors import UserError
from stagewise.pipeline.promote import promote, source_build
from stagewise.pipeline.runner import RunState
from stagewise.pipeline.source import promote_release
from tests.helpers import commit_all, git, make_repo
from tests.pipeline.test_deploy_local import release

API_STACK = "services/api/stack.py"
HELLO = '''    ctx.function(t, "Hello", handler="api_pkg.handler.main",
                 environment={"TOPIC_ARN": ctx.import_value("infra", "TopicArn")})
'''


@pytest.fixture
def repo(project_dir: Path) -> Path:
    make_repo(project_dir)
    return project_dir


def add_function(root: Path) -> None:
    """A second function in api, as a later commit would add it (with its own IAM role)."""
    stack = root / API_STACK
    text = stack.read_text()
    assert HELLO in text
    stack.write_text(text.replace(HELLO, HELLO + HELLO.replace('"Hello"', '"Goodbye"')))


def deploy_dev(stages, root: Path, tmp_path: Path):
    stages.target("dev").store.bootstrap()
    result = stages.runner("dev").ship(release(stages, root, tmp_path))
    assert result.state is RunState.SUCCEEDED
    stages.target("prod").store.bootstrap()
    return result


def refused_without_touching_prod(stages, calls) -> str:
    calls.clear()
    with pytest.raises(UserError) as refused:
        promote(stages.target("dev"), stages.runner("prod"))
    assert refused.value.exit_code == 2
    message = str(refused.value)
    assert "\n" not in message
    assert calls.writes() == []  # no lock, no copied artifact, no stack
    prod = stages.target("prod")
    assert prod.history.live("prod").build is None
    assert prod.store.keys("artifacts/") == []
    return message


def test_promote_refuses_a_working_tree_at_a_later_commit_and_names_the_one_to_check_out(
        stages, repo, tmp_path, calls):
    built = git(repo, "rev-parse", "HEAD")
    deploy_dev(stages, repo, tmp_path)
    add_function(repo)  # a function dev never built or tested
    later = commit_all(repo, "add Goodbye")
    stages.project = load_project(repo / "stagewise.toml")

    message = refused_without_touching_prod(stages, calls)

    assert f"git checkout {built}" in message and later[:12] in message


def test_promote_refuses_uncommitted_changes_in_the_working_tree(stages, repo, tmp_path, calls):
    built = git(repo, "rev-parse", "HEAD")
    deploy_dev(stages, repo, tmp_path)
    add_function(repo)
    stages.project = load_project(repo / "stagewise.toml")

    message = refused_without_touching_prod(stages, calls)

    assert "uncommitted changes" in message and f"git checkout {built}" in message


def test_promote_refuses_a_source_build_made_from_a_dirty_tree(stages, repo, tmp_path, calls):
    scratch = repo / "notes.txt"
    scratch.write_text("not committed")
    dev = deploy_dev(stages, repo, tmp_path)
    scratch.unlink()  # the tree is clean again, at the build's commit: only the build is the problem
    assert stages.target("dev").history.load("dev", dev.build).build.dirty

    message = refused_without_touching_prod(stages, calls)

    assert f"build {dev.build} was made from a working tree with uncommitted changes" in message
    assert "stagewise deploy --stage dev" in message


def test_promote_at_the_source_commit_ships_and_records_that_commit(stages, repo, tmp_path):
    built = git(repo, "rev-parse", "HEAD")
    dev = deploy_dev(stages, repo, tmp_path)
    add_function(repo)
    commit_all(repo, "add Goodbye")
    git(repo, "checkout", "-q", built)  # what the refusal says to do
    stages.project = load_project(repo / "stagewise.toml")

    result = promote(stages.target("dev"), stages.runner("prod"))

    assert result.state is RunState.SUCCEEDED, [o.reason for o in result.outcomes]
    shipped = stages.target("prod").history.live_record("prod")
    assert shipped.build.commit == built and not shipped.build.dirty and shipped.source == f"dev/{dev.build}"
    assert "Goodbye" not in stages.target("prod").provider.physical_ids("prod-shop-api")


def test_promote_release_never_renders_an_unbuilt_code_key(stages, repo, tmp_path):
    deploy_dev(stages, repo, tmp_path)
    add_function(repo)
    project = load_project(repo / "stagewise.toml")
    record = source_build(stages.target("dev"))

    with pytest.raises(UserError) as refused:
        promote_release(project, project.stage("prod"), record, account_id="222222222222")

    message = str(refused.value)
    assert "AWS::Lambda::Function Goodbye of service 'api' (prod-shop-api)" in message
    assert f"no artifact in dev's build {record.id}" in message and "\n" not in message


def test_the_command_refuses_with_exit_code_2_and_one_line(stages, repo, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from stagewise.cli import app

    built = git(repo, "rev-parse", "HEAD")
    deploy_dev(stages, repo, tmp_path)
    add_function(repo)
    commit_all(repo, "add Goodbye")
    monkeypatch.setenv("STAGEWISE_PROJECT", str(repo))
    monkeypatch.setenv("STAGEWISE_STATE_DIR", str(stages.cloud.state_dir))

    result = CliRunner().invoke(app, ["promote", "dev", "prod", "--local", "--yes"])

    assert isinstance(result.exception, UserError) and result.exception.exit_code == 2  # main() prints it, exits 2
    assert f"git checkout {built}" in str(result.exception)
    assert stages.target("prod").history.live("prod").build is None
