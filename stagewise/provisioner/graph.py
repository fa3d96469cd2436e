"""Dependency order of resources: a topological sort that names the cycle when there is one.

Input: {logical id: set of logical ids it depends on}. Output: ids in an order where every
resource comes after what it depends on (ties broken by name, so the order is deterministic).
"""

from __future__ import annotations

from collections.abc import Mapping

from stagewise.provisioner.errors import TemplateError


def dependency_order(depends: Mapping[str, set[str]]) -> list[str]:
    """Ids ordered so that dependencies come first; raises TemplateError naming a cycle."""
    remaining = {node: set(deps) & set(depends) for node, deps in depends.items()}
    order: list[str] = []
    while remaining:
        ready = sorted(node for node, deps in remaining.items() if not deps)
        if not ready:
            cycle = find_cycle(remaining)
            raise TemplateError(
                f"Circular dependency between resources: [{', '.join(sorted(set(cycle)))}] "
                f"({' -> '.join(cycle)}); break it by removing one of these references or DependsOn"
            )
        for node in ready:
            del remaining[node]
        for deps in remaining.values():
            deps.difference_update(ready)
        order.extend(ready)
    return order


def find_cycle(depends: Mapping[str, set[str]]) -> list[str]:
    """One cycle in the graph as a path that ends where it starts (e.g. [A, B, A])."""
    for start in sorted(depends):
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in path:
            path.append(node)
            node = next(iter(sorted(depends.get(node, ()))), None)
        if node is not None:
            return [*path[path.index(node) :], node]
    return []
