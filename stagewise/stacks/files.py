"""Rendered templates on disk: `<dir>/<stack-name>.template.json`, one file per stack.

Data flow: service → template dict (from `render_stage`) → JSON files, written atomically;
stale templates of the same stage in that folder (a service that was removed) are deleted
so the folder always equals the stage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stagewise.config import Project, StageConfig
from stagewise.stacks.naming import stack_name

SUFFIX = ".template.json"


def default_synth_dir(project: Project, stage: StageConfig) -> Path:
    return project.root / ".stagewise" / "synth" / stage.name


def template_json(template: Mapping[str, Any]) -> str:
    """The canonical text of a template (stable across runs: what gets hashed and diffed)."""
    return json.dumps(template, indent=2) + "\n"


def write_templates(
    project: Project, stage: StageConfig, templates: Mapping[str, Mapping[str, Any]], out_dir: Path
) -> dict[str, Path]:
    """Write every template; return service → file. Removes `<stage>-<app>-*.template.json` no longer rendered."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for service, template in templates.items():
        path = out_dir / f"{stack_name(project, stage, service)}{SUFFIX}"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(template_json(template))
        os.replace(tmp, path)
        written[service] = path
    keep = set(written.values())
    for stale in out_dir.glob(f"{stage.name}-{project.app.name}-*{SUFFIX}"):
        if stale not in keep:
            stale.unlink()
    return written
