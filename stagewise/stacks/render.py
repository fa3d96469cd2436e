"""Render a stage: import each service's stack module and turn its troposphere Template into JSON.

Data flow: Project + StageConfig (+ built artifacts) → for every service the stage deploys
(infra services are skipped when the stage borrows infra) → `load_stack_module` imports
`<service>/stack.py` by file path → `build(StackContext)` → troposphere Template →
`to_dict()` plus `Metadata.stagewise` {stage, app, service} → service → template dict, plus
one generated `<owner>-stage` template per published REST API (`publish.add_publishing`: the
API's Deployment and Stage, after every stack that adds routes), then, on a stage with `alarms`,
CloudWatch alarms and the stage's alarm-topic stack (`alarms.add_alarms`), then, on a stage with a
`domain`, its custom-domain stack (`domain.add_domain`). A broken stack module becomes
a UserError naming the file and the problem.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from troposphere import Template

from stagewise.config import Project, Service, StageConfig
from stagewise.errors import UserError
from stagewise.stacks.alarms import add_alarms
from stagewise.stacks.context import ArtifactRef, StackContext
from stagewise.stacks.domain import add_domain
from stagewise.stacks.naming import stack_name
from stagewise.stacks.publish import add_publishing

__all__ = ["declared_secrets", "load_stack_module", "render_service", "render_stage", "services_of", "stack_name"]

MODULE_PREFIX = "stagewise_stack_"
TEMPLATE_VERSION = "2010-09-09"


def load_stack_module(service: Service) -> ModuleType:
    """Import `<service.path>/stack.py` under a module name of its own (service folders are not packages)."""
    path = service.stack_module
    module_name = MODULE_PREFIX + service.name.replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserError(f"cannot load {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(module_name, None)
        raise UserError(f"{path} failed to import: {_where(exc, path)}; fix the stack module and retry") from exc
    if not callable(getattr(module, "build", None)):
        raise UserError(f"{path} defines no build(ctx) function; a stack module must return a Template from build(ctx)")
    return module


def services_of(project: Project, stage: StageConfig) -> list[Service]:
    """The services this stage deploys itself: all of them, minus infra when it borrows another stage's."""
    return [s for s in project.services.values() if not (s.infra and stage.infra_from)]


def declared_secrets(project: Project, stage: StageConfig) -> list[str]:
    """The secret names the stage's services declare with a module-level `SECRETS = [...]`, sorted."""
    names: set[str] = set()
    for service in services_of(project, stage):
        names.update(getattr(load_stack_module(service), "SECRETS", ()) or ())
    return sorted(names)


def render_service(
    project: Project, stage: StageConfig, service: Service, *, artifacts: Mapping[str, ArtifactRef] | None = None
) -> dict[str, Any]:
    module = load_stack_module(service)
    ctx = StackContext(project=project, stage=stage, service=service, artifacts=artifacts)
    try:
        template = module.build(ctx)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(f"{service.stack_module}: build(ctx) failed for stage {stage.name}: "
                        f"{_where(exc, service.stack_module)}") from exc
    if not isinstance(template, Template):
        raise UserError(f"{service.stack_module}: build(ctx) returned {type(template).__name__}, not a troposphere Template")
    body = template.to_dict()
    body["AWSTemplateFormatVersion"] = TEMPLATE_VERSION
    body.setdefault("Description", f"{stack_name(project, stage, service.name)} (stagewise)")
    body.setdefault("Metadata", {})["stagewise"] = {"stage": stage.name, "app": project.app.name, "service": service.name}
    return body


def render_stage(
    project: Project,
    stage_config: StageConfig,
    *,
    artifacts: Mapping[str, Mapping[str, ArtifactRef]] | None = None,
) -> dict[str, dict[str, Any]]:
    """service name → CloudFormation template dict. `artifacts` is service → function logical id → {bucket, key}.

    The keys are the stage's services plus `<owner>-stage` for each published API (no folder of its own),
    and, on a stage with `alarms = true`, `alarms` (the alarm topic; `stacks/alarms.py` adds the alarms),
    and, on a stage with a `domain`, `domain` (its custom domain: `stacks/domain.py`).
    """
    templates = {
        service.name: render_service(
            project, stage_config, service, artifacts=(artifacts or {}).get(service.name)
        )
        for service in services_of(project, stage_config)
    }
    return add_domain(project, stage_config, add_alarms(project, stage_config, add_publishing(project, stage_config, templates)))


def _where(exc: Exception, path: Any) -> str:
    """`ExcType: message (stack.py line N)` — the innermost frame in the stack module, if any."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    line = f" (line {frames[-1].lineno})" if frames else ""
    if isinstance(exc, SyntaxError) and exc.lineno:
        line = f" (line {exc.lineno})"
    return f"{type(exc).__name__}: {exc}{line}"
