"""The build step of the shipping pipeline: content-hashed artifacts, rendered templates, a record.

Data flow (each step in its own module):

    services/<name>/ + libs/  --code.py (imports.py finds the libs used)-->  code-<hash>.zip
    services/<name>/requirements.txt  --deps.py (pip.py, cache.py)-->  deps-<hash>.zip (a layer)
    rendered templates  --templates.py-->  template hashes, artifact_map per template
    all of it + git state  --record.py-->  BuildRecord (PENDING → SUCCEEDED / FAILED)

Identical inputs give byte-identical zips (zipping.py), so an artifact's name is its identity:
the deploy uploads a key only when it is new and skips a stack whose template and keys are
unchanged. Nothing here prints or touches AWS; progress goes to a callback (events.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stagewise.build.artifact import Artifact, ArtifactKind
from stagewise.build.cache import LayerCache, default_cache_dir
from stagewise.build.events import BuildEvent, BuildStep, Progress, ignore
from stagewise.build.git import GitState, git_state
from stagewise.build.pip import Arch, PipRunner, run_pip
from stagewise.build.record import BuildRecord, BuildResult, FunctionArtifact
from stagewise.build.service import Builder, ServiceArtifacts
from stagewise.build.templates import (
    artifact_map,
    function_artifacts,
    lambda_functions,
    template_sha256,
    write_templates,
)
from stagewise.config import Project

__all__ = [
    "Arch",
    "Artifact",
    "ArtifactKind",
    "BuildEvent",
    "BuildRecord",
    "BuildResult",
    "BuildStep",
    "Builder",
    "FunctionArtifact",
    "GitState",
    "LayerCache",
    "PipRunner",
    "Progress",
    "ServiceArtifacts",
    "artifact_map",
    "build_all",
    "build_service_artifacts",
    "default_cache_dir",
    "function_artifacts",
    "git_state",
    "lambda_functions",
    "new_record",
    "template_sha256",
    "write_templates",
]


def build_service_artifacts(
    project: Project,
    service: str,
    *,
    out_dir: Path,
    pip: PipRunner = run_pip,
    cache: LayerCache | None = None,
    progress: Progress = ignore,
) -> ServiceArtifacts:
    """The code zip and dependency layer of one service, written to `out_dir`."""
    return Builder(project, pip=pip, cache=cache, progress=progress).service(service, out_dir)


def build_all(
    project: Project,
    out_dir: Path,
    *,
    services: Iterable[str] | None = None,
    pip: PipRunner = run_pip,
    cache: LayerCache | None = None,
    progress: Progress = ignore,
) -> dict[str, ServiceArtifacts]:
    """The artifacts of every service of the project (or of `services`), keyed by service name."""
    return Builder(project, pip=pip, cache=cache, progress=progress).all(out_dir, services=services)


def new_record(
    project: Project,
    *,
    stage: str,
    templates: Mapping[str, Mapping[str, Any]],
    artifacts: Mapping[str, ServiceArtifacts],
) -> BuildRecord:
    """A PENDING record of this build: git state, template hashes and every function's artifacts.

    `templates` maps a stack (or service) name to its rendered template, as `render_stage` returns.
    """
    return BuildRecord.create(
        stage=stage,
        git=git_state(project.root),
        functions=function_artifacts(templates, artifacts),
        templates={name: template_sha256(template) for name, template in templates.items()},
    )
