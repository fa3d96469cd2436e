"""`stagewise stage-name [BRANCH]`: the stage a git branch deploys to (for scripts and CI)."""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer

from stagewise.errors import UserError


def current_branch() -> str:
    try:
        return subprocess.run(["git", "symbolic-ref", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise UserError("no current branch (not a git checkout, or a detached HEAD); pass the branch name") from exc


def stage_name(
    branch: Annotated[str | None, typer.Argument(help="Branch name (default: the current git branch).")] = None,
    pr: Annotated[int | None, typer.Option("--pr", help="A pull request number instead: pr-<N>.", min=1)] = None,
) -> None:
    """Print the stage name for a branch (feature/Login_Form → feature-login-form) or a pull request.

    Example:  stagewise deploy --stage "$(stagewise stage-name)" --yes
    """
    from stagewise.config import check_stage_name, stage_name_for_branch

    name = f"pr-{pr}" if pr is not None else stage_name_for_branch(branch or current_branch())
    check_stage_name(name)
    print(name)


def register(app: typer.Typer) -> None:
    app.command("stage-name")(stage_name)
