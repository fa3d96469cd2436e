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
