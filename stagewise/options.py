"""CLI options shared by every command, so `--stage` and friends mean the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.config import Project, StageConfig, load_project
from stagewise.errors import UserError

StageOption = Annotated[str, typer.Option("--stage", "-s", help="Stage name (e.g. local, dev, prod, pr-42).")]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override a stage setting for this command: --set log_level=DEBUG."),
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
    project = load_project()
    return project, project.stage(stage, parse_overrides(overrides))
