"""CLI options shared by every command, so `--stage` and friends mean the same everywhere."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from stagewise.errors import UserError

if TYPE_CHECKING:  # config (pydantic, ~90 ms) is imported when a command runs, not when the CLI starts
    from stagewise.config import Project, StageConfig

StageOption = Annotated[str, typer.Option("--stage", "-s", help="Stage name (e.g. local, dev, prod, pr-42).")]
# The flags every command that ships or reads a stage shares (they live here, not with the pipeline,
# so that registering commands does not import the pipeline: the CLI starts ~0.1 s sooner).
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before changing anything.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print a machine-readable result on stdout.")]
LocalOption = Annotated[bool, typer.Option(
    "--local", help="Use the local cloud (each account of stagewise.toml is a simulated account there); "
    "also STAGEWISE_LOCAL=1.")]
ForceUnlockOption = Annotated[bool, typer.Option(
    "--force-unlock", help="Break the stage's lock left by a run that died (asks first unless --yes).")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a stage setting for this command: --set log_level=DEBUG; "
                 "or a stage variable: --set vars.admin_phone=+15555550100."),
]


def parse_overrides(pairs: list[str] | None) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--set expects KEY=VALUE, got '{pair}'")
        overrides[key.strip()] = value.strip()
    return overrides


def load_stage(stage: str, overrides: list[str] | None = None) -> tuple[Project, StageConfig]:
    from stagewise.config import load_project

    project = load_project()
    return project, project.stage(stage, parse_overrides(overrides))
