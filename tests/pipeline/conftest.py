"""Fixtures: a real local cloud on a free port, a copy of the fixture project, and pipeline targets
whose AWS clients record every call (so tests can count write calls)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stagewise.cloud import LocalCloud, client
from stagewise.config import Project, load_project
from stagewise.pipeline.progress import LineProgress
from stagewise.pipeline.runner import Runner, StageTarget
from stagewise.pipeline.store import PipelineStore
from stagewise.providers.factory import provider_for
from stagewise.target import Target
from tests.helpers import free_port

FIXTURE = Path(__file__).parent / "fixtures" / "project"
READS = ("Get", "List", "Describe", "Head")


@dataclass
class CallLog:
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # service, operation, params as text

    def writes(self) -> list[tuple[str, str, str]]:
        return [call for call in self.calls if not call[1].startswith(READS)]

    def writes_about(self, text: str) -> list[tuple[str, str, str]]:
        return [call for call in self.writes() if text in call[2]]

    def clear(self) -> None:
        self.calls.clear()


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    local = LocalCloud(tmp_path / "cloud", free_port())
    try:
        local.start()
        yield local
    finally:
        local.stop()


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(FIXTURE, dest)
    return dest


@pytest.fixture
def project(project_dir: Path) -> Project:
    return load_project(project_dir / "stagewise.toml")


@pytest.fixture
def calls() -> CallLog:
    return CallLog()


def set_knobs(project_dir: Path, service: str, **knobs: Any) -> None:
    """Set one service's knobs in the fixture project's knobs.json (see fixtures/project/knobs.py)."""
    path = project_dir / "knobs.json"
    current = json.loads(path.read_text()) if path.is_file() else {}
    current[service] = knobs
    path.write_text(json.dumps(current))


class Stages:
    """Builds StageTargets on the fixture cloud whose clients log their calls."""

    def __init__(self, cloud: LocalCloud, project: Project, calls: CallLog) -> None:
        self.cloud, self.project, self.calls = cloud, project, calls

    def target(self, stage_name: str) -> StageTarget:
        stage = self.project.stage(stage_name)
        account_id = self.project.accounts[stage.account].id
        endpoint = self.cloud.endpoint

        def factory(service: str) -> Any:
            made = client(endpoint, account_id=account_id, region=stage.region, service=service)
            def log(params: dict[str, Any], model: Any, **_: Any) -> None:
                shown = {k: v for k, v in params.items() if k not in ("Body", "TemplateBody")}
                self.calls.calls.append((service, model.name, repr(shown)))

            made.meta.events.register("before-parameter-build", log)
            return made

        target = Target(account_id, stage.region, True, factory, endpoint, self.cloud.state_dir)
        store = PipelineStore(factory("s3"), account_id=account_id, region=stage.region, account_name=stage.account)
        return StageTarget(self.project, stage, target, provider_for(target), store)

    def runner(self, stage_name: str, *, confirm: bool = True) -> Runner:
        return Runner(self.target(stage_name), reporter=LineProgress(), confirm=lambda plan: confirm,
                      command="test")


@pytest.fixture
def stages(cloud: LocalCloud, project: Project, calls: CallLog) -> Stages:
    return Stages(cloud, project, calls)
