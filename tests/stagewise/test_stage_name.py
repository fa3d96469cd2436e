"""`stagewise stage-name`: branches and pull requests become valid stage names."""

from __future__ import annotations

from typer.testing import CliRunner

from stagewise.cli import app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["stage-name", *args])
    return result.exit_code, result.output.strip()


def test_a_branch_becomes_a_stage_name() -> None:
    assert run("feature/Login_Form") == (0, "feature-login-form")


def test_a_pull_request_becomes_pr_n() -> None:
    assert run("--pr", "42") == (0, "pr-42")


def test_without_a_branch_the_current_git_branch_is_used(tmp_path, monkeypatch) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", "-b", "fix/Crash-On-Save", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    assert run() == (0, "fix-crash-on-save")


def test_a_pr_number_must_be_positive() -> None:
    code, _ = run("--pr", "0")
    assert code != 0


def test_refs_heads_is_stripped() -> None:
    assert run("refs/heads/feature/Login_Form") == (0, "feature-login-form")


def test_two_long_branches_never_share_a_stage() -> None:
    code, one = run("feature/a-very-long-branch-name-for-testing-collisions")
    _, other = run("feature/a-very-long-branch-name-for-testing-other")
    assert code == 0 and one != other and len(one) == len(other) == 20
    assert run("refs/heads/feature/a-very-long-branch-name-for-testing-collisions") == (0, one)


def errors(*args: str) -> tuple[int, str]:
    from stagewise.config import ConfigError
    from stagewise.errors import UserError

    result = CliRunner().invoke(app, ["stage-name", *args])
    assert isinstance(result.exception, (ConfigError, UserError)), result.output
    return getattr(result.exception, "exit_code", 2), str(result.exception)


def test_a_branch_that_sanitises_to_nothing_is_one_line() -> None:
    code, message = errors("___")
    assert code == 2 and "no letters or digits" in message and "\n" not in message


def test_a_pr_that_is_not_a_number_is_one_line() -> None:
    code, message = errors("--pr", "abc")
    assert code == 2 and message == "pull request number 'abc' is not a positive integer; pass e.g. --pr 42"
