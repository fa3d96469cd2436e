"""Building the artifacts of the services of a project: one code zip and one layer per service.

Data flow: `Builder(project, pip=…, cache=…, progress=…)` holds the collaborators (a fake pip
runner and a temporary cache in tests) → `Builder.service(name, out_dir)` builds the service's
code zip (`code.build_code`) and, when its requirements.txt lists anything, its dependency layer
(`deps.build_layer`) → `ServiceArtifacts`. `Builder.all(out_dir, services=…)` does that for each
service. Every function of a service runs that service's code zip and layer, so each is built
once per service; services with equal requirements share one layer (same content, same name).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stagewise.build.artifact import Artifact
from stagewise.build.cache import LayerCache
from stagewise.build.code import build_code
from stagewise.build.deps import LayerSpec, build_layer, python_version_of
from stagewise.build.events import BuildEvent, BuildStep, Progress, ignore
from stagewise.build.imports import ROOT_PACKAGE
from stagewise.build.pip import Arch, PipRunner, run_pip
from stagewise.config import Project

REQUIREMENTS = "requirements.txt"


@dataclass(frozen=True)
class ServiceArtifacts:
    service: str
    code: Artifact | None  # None when the folder holds no handler code (e.g. an infra-only stack)
    layer: Artifact | None  # None when requirements.txt is missing or empty

    @property
    def artifacts(self) -> list[Artifact]:
        return [a for a in (self.code, self.layer) if a is not None]


class Builder:
    def __init__(
        self,
        project: Project,
        *,
        pip: PipRunner = run_pip,
        cache: LayerCache | None = None,
        progress: Progress = ignore,
        arch: Arch = Arch.X86_64,
    ) -> None:
        self.project = project
        self.pip = pip
        self.cache = cache or LayerCache.default()
        self.progress = progress
        self.arch = arch

    def service(self, name: str, out_dir: Path) -> ServiceArtifacts:
        service = self.project.service(name)
        code = build_code(service.path, libs_dir=self.project.root / ROOT_PACKAGE, out_dir=out_dir)
        if code is not None:
            self.progress(BuildEvent(name, BuildStep.CODE_BUILT, f"{code.name} ({code.size} bytes)"))
        return ServiceArtifacts(service=name, code=code, layer=self._layer(name, service.path, out_dir))

    def all(self, out_dir: Path, *, services: Iterable[str] | None = None) -> dict[str, ServiceArtifacts]:
        names = list(services) if services is not None else sorted(self.project.services)
        return {name: self.service(name, out_dir) for name in names}

    def _layer(self, name: str, folder: Path, out_dir: Path) -> Artifact | None:
        spec = LayerSpec.from_file(
            folder / REQUIREMENTS, python_version=python_version_of(self.project.app.runtime), arch=self.arch
        )
        if spec is None:
            self.progress(BuildEvent(name, BuildStep.NO_DEPS, f"no {REQUIREMENTS}: no layer"))
            return None

        def notify(step: BuildStep, message: str) -> None:
            self.progress(BuildEvent(name, step, message))

        return build_layer(spec, out_dir=out_dir, cache=self.cache, pip=self.pip, notify=notify)
