"""`stagewise stage-name [BRANCH] [--pr N]`: the stage a git branch or pull request deploys to.

`resolve_stage` is what deploy / remove / config use for their `--stage` / `--pr` / `--branch`
options, so a stage made from a branch or PR has one name everywhere (here, in CI, in deploy).
"""

from __future__ import annotations

import subprocess
from typing import Annotated

import typer

from stagewise.errors import UserError

PrOption = Annotated[str | None, typer.Option(
    "--pr", help="A pull request number: its stage is pr-<N>.", show_default=False)]
BranchOption = Annotated[str | None, typer.Option(
    "--branch", help="A git branch (refs/heads/ is stripped): its stage is named after it, e.g. "
    "feature/Login_Form → feature-login-form.", show_default=False)]


def current_branch() -> str:
    try:
        return subprocess.run(["git", "symbolic-ref", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise UserError("no current branch (not a git checkout, or a detached HEAD); pass the branch name") from exc


def resolve_stage(stage: str | None, pr: str | None, branch: str | None, *, stage_flag: str = "--stage NAME") -> str:
    """Exactly one of --stage (or remove's STAGE), --pr, --branch, as a stage name."""
    from stagewise.config import check_stage_name, stage_name_for_branch, stage_name_for_pr

    flags = ((stage_flag.split()[0], stage), ("--pr", pr), ("--branch", branch))
    given = [flag for flag, value in flags if value is not None]
    if len(given) != 1:
        which = " and ".join(given) if given else "none"
        raise UserError(f"give exactly one of {stage_flag}, --pr N or --branch BRANCH (got {which})")
    if pr is not None:
        return stage_name_for_pr(pr)
    if branch is not None:
        return stage_name_for_branch(branch)
    assert stage is not None
    check_stage_name(stage)
    return stage


def stage_name(
    branch: Annotated[str | None, typer.Argument(help="Branch name (default: the current git branch).")] = None,
    pr: PrOption = None,
) -> None:
    """Print the stage name for a branch (feature/Login_Form → feature-login-form) or a pull request (pr-42).

    A name longer than 20 characters keeps its start and ends with a short hash of the whole
    branch name, so two long branches never share a stage.

    Example:  stagewise deploy --stage "$(stagewise stage-name)" --yes
    """
    from stagewise.config import stage_name_for_branch, stage_name_for_pr

    if pr is not None and branch is not None:
        raise UserError("give a branch or --pr N, not both")
    print(stage_name_for_pr(pr) if pr is not None else stage_name_for_branch(branch or current_branch()))


def register(app: typer.Typer) -> None:
    app.command("stage-name")(stage_name)
