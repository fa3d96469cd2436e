"""The one list of secrets a stage needs (`declared_secrets`), as deploy, promote and dev read it."""

from __future__ import annotations

from stagewise.config import load_project
from stagewise.stacks.render import declared_secrets
from tests.pipeline.conftest import set_knobs


def test_a_service_declaring_secrets_names_them_once_sorted(project_dir):
    assert declared_secrets(load_project(project_dir / "stagewise.toml"),
                            load_project(project_dir / "stagewise.toml").stage("dev")) == []
    set_knobs(project_dir, "api", secret=True)
    project = load_project(project_dir / "stagewise.toml")
    assert declared_secrets(project, project.stage("dev")) == ["FIXTURE_TOKEN"]
    assert declared_secrets(project, project.stage("pr-7")) == ["FIXTURE_TOKEN"]  # ephemeral: same services


def test_dev_and_the_pipeline_share_the_function():
    from stagewise import devsession

    assert devsession.declared_secrets is declared_secrets
