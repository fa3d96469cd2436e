"""Fixtures for the stack tests: the real project, its stages rendered once, a throwaway project.

Rendering is milliseconds; cfn-lint is ~1 s a template, so its results are computed once per
session (`lint_results`) and shared by every test that reads them.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from stagewise.config import Project, load_project
from stagewise.stacks import render_stage

REPO = Path(__file__).resolve().parents[2]
STAGES = ("dev", "prod", "pr-12")


@pytest.fixture(scope="session")
def project() -> Project:
    return load_project(REPO / "stagewise.toml")


@pytest.fixture(scope="session")
def rendered(project: Project) -> dict[str, dict[str, dict[str, Any]]]:
    """stage → service → template, for dev, prod and an ephemeral stage."""
    return {stage: render_stage(project, project.stage(stage)) for stage in STAGES}


@pytest.fixture(scope="session")
def lint_results(rendered: dict[str, dict[str, dict[str, Any]]]) -> dict[tuple[str, str], list[Any]]:
    from cfnlint.api import ManualArgs, lint

    config = ManualArgs(regions=["us-east-1"])
    return {
        (stage, service): lint(json.dumps(template), config=config)
        for stage, templates in rendered.items()
        for service, template in templates.items()
    }


MANIFEST = """
[app]
name = "demo"
[services]
{services}
[accounts.dev]
id = "111111111111"
[defaults]
account = "dev"
[stages.dev]
[ephemeral]
infra_from = "dev"
"""


def write_project(root: Path, services: dict[str, str], *, infra: set[str] = frozenset()) -> Project:
    """A project under `root` whose services' stack.py bodies are `services[name]`."""
    lines = []
    for name, body in services.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "stack.py").write_text(textwrap.dedent(body))
        lines.append(f'{name} = {{ path = "{name}", infra = {"true" if name in infra else "false"} }}')
    (root / "stagewise.toml").write_text(MANIFEST.format(services="\n".join(lines)))
    return load_project(root / "stagewise.toml")
