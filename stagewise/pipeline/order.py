"""The order of a stage change, computed from the export graphs of what is live and what comes.

Data flow: `new` (stack → template to deploy) and `live` (stack → template deployed now) →
steps: DEPLOY for each new stack, REMOVE for each live stack that is not in `new` → edges:
  - an importer deploys after the stack that exports what it imports (the new graph) — a must
    when the export is new, a preference (dropped rather than making a cycle) when it is live;
  - a stack that stops exporting a name (its new version drops it, or it is removed) goes
    after every live stack that imports that name, so those are updated or removed first
    (the old graph) — CloudFormation refuses to drop an export in use;
→ phases: lists of steps whose dependencies are all in earlier phases; a cycle names itself.
A deploy, a rollback, a promotion and a removal (`new` empty) all use this one function.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stagewise.errors import UserError
from stagewise.stacks.graph import exports_of, find_cycle, imports_of

Template = Mapping[str, Any]


class Op(enum.StrEnum):
    DEPLOY = "deploy"
    REMOVE = "remove"


@dataclass(frozen=True)
class Step:
    stack: str
    op: Op
    phase: int
    needs: frozenset[str]  # stacks whose steps must succeed first


class CycleError(UserError):
    """The stacks' exports and imports form a cycle."""


def edges(new: Mapping[str, Template], live: Mapping[str, Template]) -> dict[str, set[str]]:
    """stack → the stacks whose step must run before its own."""
    needs: dict[str, set[str]] = {stack: set() for stack in set(new) | set(live)}
    hard, soft = _import_edges(new, live)
    for importer, exporter in sorted(hard | _dropped_export_edges(new, live)):
        needs[importer].add(exporter)
    for importer, exporter in sorted(soft):
        if not _reaches(needs, exporter, importer):  # an ordering preference, never a cycle
            needs[importer].add(exporter)
    return needs


def _import_edges(new: Mapping[str, Template], live: Mapping[str, Template]) -> tuple[set[tuple[str, str]], ...]:
    """(importer, exporter) pairs of the new graph: hard when the export is not live yet, else soft."""
    exporter = {name: stack for stack, template in new.items() for name in exports_of(template)}
    live_exports = {name for template in live.values() for name in exports_of(template)}
    hard, soft = set(), set()
    for stack, template in new.items():
        for name in imports_of(template):
            if name in exporter and exporter[name] != stack:
                (soft if name in live_exports else hard).add((stack, exporter[name]))
    return hard, soft


def _dropped_export_edges(new: Mapping[str, Template], live: Mapping[str, Template]) -> set[tuple[str, str]]:
    """(exporter, importer): a stack that stops exporting a name goes after the live stacks importing it."""
    importers: dict[str, set[str]] = {}
    for stack, template in live.items():
        for name in imports_of(template):
            importers.setdefault(name, set()).add(stack)
    pairs = set()
    for stack, template in live.items():
        kept = exports_of(new[stack]) if stack in new else set()
        for dropped in exports_of(template) - kept:
            pairs |= {(stack, importer) for importer in importers.get(dropped, set()) - {stack}}
    return pairs


def _reaches(needs: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(needs.get(node, ()))
    return False


def phases(new: Mapping[str, Template], live: Mapping[str, Template]) -> list[list[Step]]:
    """Steps grouped in phases; each phase only needs earlier phases. Raises CycleError naming the cycle."""
    needs = edges(new, live)
    remaining = {stack: set(deps) for stack, deps in needs.items()}
    done: set[str] = set()
    ordered: list[list[Step]] = []
    while remaining:
        ready = sorted(stack for stack, deps in remaining.items() if deps <= done)
        if not ready:
            cycle = " → ".join(find_cycle(remaining))
            raise CycleError(
                f"the stacks' exports and imports form a cycle: {cycle}; move the shared resource into one "
                "stack (often infra) and import it from the others. Nothing was deployed"
            )
        ordered.append([
            Step(stack, Op.DEPLOY if stack in new else Op.REMOVE, len(ordered), frozenset(needs[stack]))
            for stack in ready
        ])
        done.update(ready)
        for stack in ready:
            del remaining[stack]
    return ordered
