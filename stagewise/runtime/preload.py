"""What a worker template imports before it forks: the modules of the functions' dependency layers.

Data flow (inside the template process, stdlib only): each function folder's requirements file (the
input of its built layer) → the installed distributions it names (with their extras' requirements)
and the packages the Lambda runtime itself provides → their top-level import packages → plus every
submodule of those packages the functions' own code imports (an `ast` scan of the watched source
folders: `from pydantic import BaseModel` preloads `pydantic`, `from x.core import y` preloads
`x.core`; one `scan()` of the sources) → `candidates()`, top-level packages first.

`import_recording(name)` imports one candidate while recording which environment variables its import
reads: the template refuses a module whose import read a variable that differs between the functions
(or listed the whole environment), because a forked worker would inherit state computed from the
template's environment instead of its own. docs/decisions.md says which libraries that refuses.
"""

from __future__ import annotations

import ast
import importlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stagewise.runtime.distributions import dependencies, import_names, installed, normal_name, requirements

WHOLE_ENVIRONMENT = "*"  # a read of every variable (iterating os.environ)


def _distributions(requirement_files: Iterable[Path], provided: Iterable[str]) -> set[str]:
    """Normalised names of the distributions the layers hold directly, with their extras' requirements."""
    names = {normal_name(name) for name in provided}
    for path in requirement_files:
        for name, extras in requirements(path):
            names.add(name)
            dist = installed(name) if extras else None
            if dist is not None:
                names |= {required for required, _ in dependencies(dist, extras)[1]}
    return names


def _top_levels(distributions: set[str]) -> set[str]:
    """Import names of the installed distributions among `distributions`."""
    return {top for name in distributions if (dist := installed(name)) is not None for top in import_names(dist)
            if top.isidentifier() and not top.startswith("_")}


def _trees(roots: Iterable[Path]) -> Iterator[ast.AST]:
    """The parsed Python files under `roots` (files that do not parse are left out)."""
    for root in roots:
        for path in Path(root).rglob("*.py"):
            try:
                yield ast.parse(path.read_bytes())
            except (OSError, SyntaxError, ValueError):
                continue


@dataclass(frozen=True)
class SourceScan:
    """What the functions' own code shows, from one read of its files."""

    imports: frozenset[str]  # absolute module names it imports
    services: tuple[str, ...]  # AWS services it names (`sdk_data.py`)


_CLIENT_CALLS = ("client", "create_client", "resource")


def scan(roots: Iterable[Path]) -> SourceScan:
    """One pass over the Python files under `roots`: the modules they import, and the AWS services they
    name as the first argument of a `client("…")`, `create_client("…")` or `resource("…")` call
    (`boto3.client("sns")`, a helper named so...)."""
    imports, services = set(), set()
    for tree in _trees(roots):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imports.add(node.module)
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if called in _CLIENT_CALLS and isinstance(node.args[0].value, str):
                    services.add(node.args[0].value)
    return SourceScan(frozenset(imports), tuple(sorted(services)))


def candidates(requirement_files: Iterable[Path], provided: Iterable[str], imports: Iterable[str]) -> list[str]:
    """Modules to preload: the layers' top-level packages, then the submodules of them the code
    imports (`imports`: `scan(...).imports`)."""
    tops = _top_levels(_distributions(requirement_files, provided))
    used = {name for name in imports if name.split(".", 1)[0] in tops and "." in name}
    return sorted(tops) + sorted(used)


@contextmanager
def recording_environment_reads() -> Iterator[set[str]]:
    """The names of the variables read from os.environ (and os.getenv) inside the block."""
    cls = type(os.environ)
    get_item, iterate = cls.__getitem__, cls.__iter__
    reads: set[str] = set()

    def recorded_get(self, key):  # noqa: ANN001, ANN202 — os._Environ's own signature
        reads.add(key)
        return get_item(self, key)

    def recorded_iter(self):  # noqa: ANN001, ANN202
        reads.add(WHOLE_ENVIRONMENT)
        return iterate(self)

    cls.__getitem__, cls.__iter__ = recorded_get, recorded_iter
    try:
        yield reads
    finally:
        cls.__getitem__, cls.__iter__ = get_item, iterate


def import_recording(name: str) -> set[str]:
    """Import `name`; the environment variables its import read."""
    with recording_environment_reads() as reads:
        importlib.import_module(name)
    return set(reads)
