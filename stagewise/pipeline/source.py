"""What a pipeline run ships: a `Release` — stacks (template + parameters), artifacts, a record.

Data flow, three ways in:
- `build_release` (deploy): render the stage once (placeholder code keys) → build the services
  that have functions (stagewise.build) → point each function at its content-named code key and
  dependency layer key in the target account's bucket (`artifact_map`) → render again → stacks + artifact files + a PENDING BuildRecord.
- `promote_release`: SRC's live record → render DST's templates with SRC's code and layer keys (no build);
  refused when a rendered template still holds an `unbuilt/` code key (a function SRC's build lacks).
- `rollback_release`: an earlier record → its templates exactly as shipped (no build, no render).
Secrets a service needs are its stack module's `SECRETS = [...]` list
(`stagewise.stacks.render.declared_secrets`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stagewise.build import (
    LayerCache,
    PipRunner,
    artifact_map,
    build_all,
    function_artifacts,
    git_state,
    lambda_functions,
    template_sha256,
)
from stagewise.build.git import GitState
from stagewise.build.pip import run_pip
from stagewise.build.record import BuildRecord, FunctionArtifact
from stagewise.config import Project, StageConfig
from stagewise.errors import UserError
from stagewise.pipeline.history import DeployRecord, Kind, StackEntry
from stagewise.stacks.context import UNBUILT_PREFIX
from stagewise.stacks.naming import artifacts_bucket, stack_name
from stagewise.stacks.render import render_stage


@dataclass(frozen=True)
class Release:
    stage: str
    kind: Kind
    stacks: dict[str, StackEntry]
    record: BuildRecord
    artifacts: dict[str, Path] = field(default_factory=dict)  # key -> local file to upload
    source: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        keys = {f.code_key for f in self.record.functions} | {f.layer_key for f in self.record.functions if f.layer_key}
        return tuple(sorted(keys))

    def deploy_record(self) -> DeployRecord:
        return DeployRecord(build=self.record, kind=self.kind, stacks=self.stacks, artifacts=self.keys,
                            source=self.source)


def _by_stack(project: Project, stage: StageConfig, templates: dict[str, dict[str, Any]]) -> dict[str, StackEntry]:
    return {stack_name(project, stage, service): StackEntry(service, template)
            for service, template in templates.items()}


def _record(stage: str, git: GitState, stacks: dict[str, StackEntry],
            functions: list[FunctionArtifact]) -> BuildRecord:
    hashes = {name: template_sha256(entry.template) for name, entry in stacks.items()}
    return BuildRecord.create(stage=stage, git=git, functions=functions, templates=hashes)


def build_release(project: Project, stage: StageConfig, *, account_id: str, out_dir: Path,
                  pip: PipRunner = run_pip, cache: LayerCache | None = None) -> Release:
    first = render_stage(project, stage)
    with_code = sorted(service for service, template in first.items() if lambda_functions(template))
    built = build_all(project, out_dir, services=with_code, pip=pip, cache=cache) if with_code else {}
    bucket = artifacts_bucket(account_id, stage.region)
    refs = {service: artifact_map(first[service], built, bucket=bucket) for service in with_code}
    templates = render_stage(project, stage, artifacts=refs) if refs else first
    stacks = _by_stack(project, stage, templates)
    functions = function_artifacts({n: e.template for n, e in stacks.items()}, built)
    files = {a.key: a.path for s in built.values() for a in s.artifacts}
    return Release(stage.name, Kind.DEPLOY, stacks, _record(stage.name, git_state(project.root), stacks, functions),
                   artifacts=files)


def promote_release(project: Project, dst: StageConfig, source: DeployRecord, *, account_id: str) -> Release:
    bucket = artifacts_bucket(account_id, dst.region)
    refs: dict[str, dict[str, dict[str, str | None]]] = {}
    for fn in source.build.functions:
        refs.setdefault(fn.service, {})[fn.logical_id] = {"bucket": bucket, "key": fn.code_key,
                                                          "layer_key": fn.layer_key}
    stacks = _by_stack(project, dst, render_stage(project, dst, artifacts=refs))
    _refuse_unbuilt(stacks, source)
    functions = [_moved(fn, project, dst) for fn in source.build.functions]
    git = GitState(commit=source.build.commit, dirty=source.build.dirty)
    return Release(dst.name, Kind.PROMOTE, stacks, _record(dst.name, git, stacks, functions),
                   source=f"{source.build.stage}/{source.id}")


def _refuse_unbuilt(stacks: dict[str, StackEntry], source: DeployRecord) -> None:
    """Never ship a placeholder code key: it names code no build produced, so nobody tested it."""
    for name, entry in sorted(stacks.items()):
        for logical_id, resource in sorted(entry.template.get("Resources", {}).items()):
            if _has_unbuilt_key(resource.get("Properties", {})):
                raise UserError(
                    f"{resource.get('Type', 'resource')} {logical_id} of service '{entry.service}' ({name}) has no "
                    f"artifact in {source.build.stage}'s build {source.id}: it was added or renamed after that "
                    f"build, so it was never built or tested there; deploy {source.build.stage} with it first, "
                    "then promote"
                )


def _has_unbuilt_key(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(f"{UNBUILT_PREFIX}/")
    if isinstance(value, dict):
        return any(_has_unbuilt_key(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_unbuilt_key(v) for v in value)
    return False


def _moved(fn: FunctionArtifact, project: Project, dst: StageConfig) -> FunctionArtifact:
    return FunctionArtifact(stack=stack_name(project, dst, fn.service), service=fn.service,
                            logical_id=fn.logical_id, code_key=fn.code_key, code_sha256=fn.code_sha256,
                            size=fn.size, layer_key=fn.layer_key)


def rollback_release(old: DeployRecord) -> Release:
    git = GitState(commit=old.build.commit, dirty=old.build.dirty)
    stacks = dict(old.stacks)
    return Release(old.build.stage, Kind.ROLLBACK, stacks,
                   _record(old.build.stage, git, stacks, list(old.build.functions)), source=old.id)
