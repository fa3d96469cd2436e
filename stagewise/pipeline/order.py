"""The order of a stage change, computed from the export graphs of what is live and what comes.

Data flow: `new` (stack → template to deploy) and `live` (stack → template deployed now) →
steps: DEPLOY for each new stack, REMOVE for each live stack that is not in `new` → edges:
  - an importer deploys after the stack that exports what it imports (the new graph);
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
    nodes = set(new) | set(live)
    needs: dict[str, set[str]] = {stack: set() for stack in nodes}
    exporter = {name: stack for stack, template in new.items() for name in exports_of(template)}
    for stack, template in new.items():
        needs[stack] |= {exporter[n] for n in imports_of(template) if n in exporter and exporter[n] != stack}
    live_importers: dict[str, set[str]] = {}
    for stack, template in live.items():
        for name in imports_of(template):
            live_importers.setdefault(name, set()).add(stack)
    for stack, template in live.items():
        kept = exports_of(new[stack]) if stack in new else set()
        for dropped in exports_of(template) - kept:
            needs[stack] |= live_importers.get(dropped, set()) - {stack}
    return needs


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
