"""Rendered templates in a build: their hashes, their files, and which artifact each function runs.

Data flow: the stacks part renders one CloudFormation dict per stack → `template_sha256` hashes
its canonical JSON (what change detection and the build record compare) → `write_templates`
saves them as `<stack>.json` beside the artifacts → `lambda_functions` reads each
`AWS::Lambda::Function`'s `Metadata.stagewise.service` → `artifact_map` / `function_artifacts`
join those with the per-service artifacts, for the deploy (bucket + key + layer) and the record.

Logical ids repeat across stacks, so the per-template maps are keyed by logical id and the
record's entries carry their stack name.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stagewise.build.record import FunctionArtifact
from stagewise.build.service import ServiceArtifacts
from stagewise.errors import UserError

FUNCTION_TYPE = "AWS::Lambda::Function"


def canonical_json(template: Mapping[str, Any]) -> bytes:
    return json.dumps(template, sort_keys=True, separators=(",", ":")).encode()


def template_sha256(template: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(template)).hexdigest()


def write_templates(templates: Mapping[str, Mapping[str, Any]], out_dir: Path) -> dict[str, Path]:
    """Write each stack's template as `<out_dir>/templates/<stack>.json` (sorted keys, stable bytes)."""
    folder = out_dir / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for stack, template in sorted(templates.items()):
        path = folder / f"{stack}.json"
        path.write_text(json.dumps(template, sort_keys=True, indent=2) + "\n")
        paths[stack] = path
    return paths


def lambda_functions(template: Mapping[str, Any]) -> dict[str, str]:
    """Logical id → service name of every Lambda function in a rendered template."""
    functions = {}
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != FUNCTION_TYPE:
            continue
        service = resource.get("Metadata", {}).get("stagewise", {}).get("service")
        if not service:
            raise UserError(
                f"function {logical_id} has no Metadata.stagewise.service; create functions with "
                "ctx.function(...) so the build knows which service's code it runs"
            )
        functions[logical_id] = service
    return functions


def artifact_map(
    template: Mapping[str, Any], artifacts: Mapping[str, ServiceArtifacts], *, bucket: str
) -> dict[str, dict[str, str | None]]:
    """Logical id → {"bucket", "key", "layer_key"} for each function of one rendered template."""
    mapping: dict[str, dict[str, str | None]] = {}
    for logical_id, service in lambda_functions(template).items():
        built = _built(artifacts, service, logical_id)
        layer_key = built.layer.key if built.layer else None
        mapping[logical_id] = {"bucket": bucket, "key": built.code.key, "layer_key": layer_key}
    return mapping


def function_artifacts(
    templates: Mapping[str, Mapping[str, Any]], artifacts: Mapping[str, ServiceArtifacts]
) -> list[FunctionArtifact]:
    """The build record's per-function entries for every stack's template."""
    entries = []
    for stack, template in sorted(templates.items()):
        for logical_id, service in sorted(lambda_functions(template).items()):
            built = _built(artifacts, service, logical_id)
            entries.append(
                FunctionArtifact(
                    stack=stack,
                    service=service,
                    logical_id=logical_id,
                    code_key=built.code.key,
                    code_sha256=built.code.sha256,
                    size=built.code.size,
                    layer_key=built.layer.key if built.layer else None,
                )
            )
    return entries


def _built(artifacts: Mapping[str, ServiceArtifacts], service: str, logical_id: str) -> ServiceArtifacts:
    built = artifacts.get(service)
    if built is None or built.code is None:
        raise UserError(
            f"function {logical_id} runs service '{service}', but the build has no code for it; "
            "build that service too (is it under [services] with handler files in its folder?)"
        )
    return built
