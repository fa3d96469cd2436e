"""The deploy order of a stage, read from its templates' exports and imports.

Data flow: rendered templates (service → CloudFormation dict) → `exports_of` (Outputs'
Export.Name) and `imports_of` (every `Fn::ImportValue` string) → an edge "importer needs
exporter" → `deploy_phases`: lists of services that can deploy together, in order.
Removal walks the phases backwards. An import of an export of the same stage that no
template provides, and a cycle, are errors that name the stacks involved. Imports of
another stage's exports (an ephemeral stage reading dev's infra) are external: they
already exist, so they add no edge (`external_imports` lists them for a pre-deploy check).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from stagewise.errors import UserError

Template = Mapping[str, Any]


class StackGraphError(UserError):
    """The stacks' references cannot be ordered (a cycle, or an import nobody exports)."""


def exports_of(template: Template) -> set[str]:
    names = set()
    for output_id, output in (template.get("Outputs") or {}).items():
        export = output.get("Export")
        if export is None:
            continue
        name = export.get("Name")
        if not isinstance(name, str):
            raise StackGraphError(f"output {output_id}: Export.Name must be a plain string to order stacks, got {name!r}")
        names.add(name)
    return names


def imports_of(template: Template) -> set[str]:
    return set(_walk_imports(template.get("Resources") or {})) | set(_walk_imports(template.get("Outputs") or {}))


def _walk_imports(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue":
                if not isinstance(value, str):
                    raise StackGraphError(f"Fn::ImportValue must name a plain string export, got {value!r}")
                yield value
            else:
                yield from _walk_imports(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_imports(item)


def stage_prefix(template: Template) -> str | None:
    """`<stage>-<app>-` from the template's Metadata.stagewise, or None for a hand-written template."""
    meta = (template.get("Metadata") or {}).get("stagewise") or {}
    if "stage" in meta and "app" in meta:
        return f"{meta['stage']}-{meta['app']}-"
    return None


def _is_external(name: str, prefixes: set[str]) -> bool:
    return bool(prefixes) and not any(name.startswith(prefix) for prefix in prefixes)


def external_imports(templates: Mapping[str, Template]) -> dict[str, set[str]]:
    """service → the imports it reads from another stage's stacks (they must exist before a deploy)."""
    prefixes = {p for t in templates.values() if (p := stage_prefix(t))}
    return {
        service: {n for n in imports_of(t) if _is_external(n, prefixes)} for service, t in templates.items()
    }


def dependencies(templates: Mapping[str, Template]) -> dict[str, set[str]]:
    """service → the services whose exports it imports (within this stage)."""
    exporter: dict[str, str] = {}
    for service, template in templates.items():
        for name in exports_of(template):
            if name in exporter:
                raise StackGraphError(f"export {name} is defined by both {exporter[name]} and {service}")
            exporter[name] = service
    prefixes = {p for t in templates.values() if (p := stage_prefix(t))}
    needs: dict[str, set[str]] = {service: set() for service in templates}
    for service, template in templates.items():
        for name in sorted(imports_of(template)):
            if name in exporter:
                if exporter[name] != service:
                    needs[service].add(exporter[name])
            elif not _is_external(name, prefixes):
                raise StackGraphError(
                    f"{service} imports {name}, but no stack of this stage exports it; "
                    f"add ctx.export(..., '{name.rpartition('-')[2]}', ...) to the exporting stack or fix the import"
                )
    return needs


def deploy_phases(templates: Mapping[str, Template]) -> list[list[str]]:
    """Services in deploy order: each phase only imports from earlier phases; a phase may run in parallel."""
    remaining = dependencies(templates)
    phases: list[list[str]] = []
    done: set[str] = set()
    while remaining:
        ready = sorted(s for s, needs in remaining.items() if needs <= done)
        if not ready:
            raise StackGraphError(f"stacks import each other in a cycle: {' → '.join(find_cycle(remaining))}; "
                                  "move the shared resource into one stack (often infra) and import it from both")
        phases.append(ready)
        done.update(ready)
        for service in ready:
            del remaining[service]
    return phases


def removal_phases(templates: Mapping[str, Template]) -> list[list[str]]:
    """The deploy phases backwards: importers go before the stacks they import from."""
    return list(reversed(deploy_phases(templates)))


def find_cycle(needs: Mapping[str, set[str]]) -> list[str]:
    """One cycle in the graph, as a path that ends where it starts (a → b → a)."""
    for start in sorted(needs):
        path, seen, node = [start], {start}, start
        while True:
            nexts = sorted(n for n in needs.get(node, ()) if n in needs)
            if not nexts:
                break
            node = nexts[0]
            if node in seen:
                return path[path.index(node):] + [node]
            path.append(node)
            seen.add(node)
    return sorted(needs)
