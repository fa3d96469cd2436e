"""What a function's code may import in its worker: what Lambda would let it import, nothing more.

On Lambda a function finds the standard library, the packages the Python runtime ships (boto3,
botocore, ... and what they require), its layer (the packages its folder's requirements file names,
with what those require) and its code zip (its folder's modules and the shared `libs` modules). A
worker runs in stagewise's own environment, which holds much more: the development tools, and, in a
worker forked from the template, the packages the template preloaded for *other* functions' layers.
Without a scope, `import requests` in a handler whose layer lacks it works locally and fails on its
first call on Lambda.

Data flow: the runtime gives each worker a `Scope` (its layer's requirements file, the runtime's
packages, the top-level names of its code zip as the build would make it) → `enter(scope)` before the
handler's import. It allows the standard library's names, the top-level import names of the installed
distributions the layer and the runtime hold (`layer_names`: requirements followed transitively; an
`extra == "…"` requirement only for an extra asked for; other markers are not evaluated, so the scope
may be a little wider than the layer, never narrower) and the code zip's names. Every finder on
`sys.meta_path` is wrapped so that a name outside the scope is not found (`import requests` raises
Lambda's own "No module named 'requests'", `importlib.util.find_spec` answers None), and the modules
the template preloaded outside the scope leave `sys.modules` (kept alive in a list: freeing them would
write to pages the worker shares with the template).

The template reads each layer's names and the modules outside it before it forks (`prepare`), so a
forked worker only pops those modules and wraps the finders (~0.3 ms), without iterating the shared
modules or name sets (each reference taken would copy a shared page); a plain worker reads its own
(~10–30 ms of its init).

The standard library is this interpreter's, which may be older than the function's runtime: the
modules a newer Python removed (`imp`, `distutils`, `asyncore`… in 3.12; PEP 594's in 3.13) are not
found for a function whose runtime no longer has them (`REMOVED_FROM_STDLIB`).

Not covered: a module of the layer that the template imported with the help of a package outside
the scope keeps that help, and `importlib.metadata` still lists every installed distribution.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.machinery import ModuleSpec
from typing import Any

from stagewise.runtime.distributions import (
    Requirement,
    dependencies,
    import_names,
    installed,
    normal_name,
    requirements,
)

RUNTIME_PACKAGE = "stagewise"  # the worker's own code (Lambda's runtime interface client, here)
# Imported before any layer (by `site` and the runtime): never taken out of a worker's sys.modules.
_BEFORE_LAYERS = frozenset({RUNTIME_PACKAGE, *(name.partition(".")[0] for name in sys.modules)})


# Standard modules a Lambda Python runtime no longer has, by the version that removed them (What's New
# in Python 3.12 and 3.13; PEP 594 and PEP 632). The workers run this interpreter's library, which may
# be older than the function's runtime: without this, `import imp` works here and fails on Lambda.
REMOVED_FROM_STDLIB: dict[tuple[int, int], frozenset[str]] = {
    (3, 12): frozenset({"asynchat", "asyncore", "distutils", "imp", "smtpd"}),
    (3, 13): frozenset({"aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "_crypt", "imghdr", "lib2to3",
                        "mailcap", "msilib", "nis", "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd",
                        "sunau", "telnetlib", "uu", "xdrlib"}),
}


@functools.cache
def removed_from_stdlib(python: str) -> dict[str, str]:
    """Each standard module the runtime `python` ("3.12") no longer has → the version that removed it."""
    major, _, minor = python.partition(".")
    version = int(major), int(minor)
    return {name: f"{major}.{minor}" for (major, minor), names in REMOVED_FROM_STDLIB.items()
            if (major, minor) <= version for name in names}


@dataclass(frozen=True)
class Scope:
    """Where a function's imports may come from, besides the standard library and its own folder."""

    layer: str  # its requirements file (the input of its layer; may be missing: no layer)
    provided: tuple[str, ...]  # distributions the Lambda runtime ships
    code: tuple[str, ...]  # the top-level modules and packages of its code zip (its folder's, and libs)
    python: str = "3.12"  # the function's Python version (its Lambda runtime `python3.12`)

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "provided": list(self.provided), "code": list(self.code), "python": self.python}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Scope:
        return cls(str(data["layer"]), tuple(data["provided"]), tuple(data["code"]), str(data["python"]))


def _closure(wanted: Iterable[Requirement]) -> list[importlib.metadata.Distribution]:
    """The installed distributions `wanted` names, and what they require, transitively."""
    found: list[importlib.metadata.Distribution] = []
    asked: dict[str, set[str]] = {}  # distribution → extras already followed
    todo = list(wanted)
    while todo:
        name, extras = todo.pop()
        if name in asked and extras <= asked[name]:
            continue
        first = name not in asked
        asked[name] = asked.get(name, set()) | extras
        dist = installed(name)
        if dist is None:
            continue  # not installed here: nothing of it can be imported anyway
        if first:
            found.append(dist)
        always, for_extras = dependencies(dist, extras)
        todo += always + for_extras
    return found


@functools.cache
def layer_names(layer: str, provided: tuple[str, ...]) -> frozenset[str]:
    """Top-level import names of a layer's distributions and the runtime's, with what they require."""
    wanted = [(normal_name(name), set()) for name in provided] + requirements(layer)
    return frozenset(name for dist in _closure(wanted) for name in import_names(dist))


_STDLIB = tuple({os.path.join(resolve(sysconfig.get_paths()[key]), "")
                 for key in ("stdlib", "platstdlib") for resolve in (os.path.abspath, os.path.realpath)})


def _in_stdlib(spec: ModuleSpec | None) -> bool:
    """A module of the standard library that `sys.stdlib_module_names` leaves out (private ones such as
    `_sysconfigdata_…`): found in the interpreter's own library folders, not in a site-packages."""
    origin = spec.origin if spec is not None and spec.has_location and spec.origin else ""
    return origin.startswith(_STDLIB) and "-packages" not in origin


class _Scoped:
    """A finder of sys.meta_path that finds nothing outside the scope (it asks the finder it wraps first,
    so that a name it turns away is known to be installed here, for `hint`)."""

    def __init__(self, finder: Any, allowed: tuple[frozenset[str] | set[str], ...], removed: dict[str, str],
                 refused: set[str]) -> None:
        self._finder, self._allowed, self._removed, self._refused = finder, allowed, removed, refused

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        find = getattr(self._finder, "find_spec", None)
        spec = find(name, path, target) if find is not None else None
        top = name.partition(".")[0]
        if spec is None:
            return None
        if top in self._removed and _in_stdlib(spec):  # this interpreter's, gone from the function's runtime
            self._refused.add(top)
            return None
        if any(top in names for names in self._allowed) or _in_stdlib(spec):
            return spec
        self._refused.add(top)
        return None

    def invalidate_caches(self) -> None:
        invalidate = getattr(self._finder, "invalidate_caches", None)
        if invalidate is not None:
            invalidate()


_BUILTINS = frozenset(sys.builtin_module_names)
_hidden: list[Any] = []  # modules taken out of sys.modules, kept alive (see the module's docstring)
_entered: list[Scope] = []  # the scope this worker entered
refused: set[str] = set()  # top-level names installed here that the scope turned away in this worker


@functools.cache
def _outside(layer: str, provided: tuple[str, ...]) -> tuple[str, ...]:
    """The modules in sys.modules now (the template's preload) that a function of this layer must not see."""
    names = layer_names(layer, provided)
    leaves: dict[str, bool] = {}  # top-level name → whether its modules leave (decided once per package)
    outside = []
    for name, module in list(sys.modules.items()):
        top = name.partition(".")[0]
        if top in names or top in sys.stdlib_module_names or top in _BUILTINS or top in _BEFORE_LAYERS:
            continue
        if top not in leaves:
            leaves[top] = not _in_stdlib(getattr(sys.modules.get(top, module), "__spec__", None))
        if leaves[top]:
            outside.append(name)
    return tuple(outside)


def prepare(layer: str, provided: tuple[str, ...]) -> None:
    """Read what `enter` needs for this layer now: the template does, after its preload and before it
    forks and freezes, so that its workers find it done."""
    _outside(layer, provided)


def enter(scope: Scope) -> None:
    """From now on this process imports only what the function's scope holds. Nothing here iterates the
    shared modules or sets: each reference taken would write to a page shared with the template."""
    code = frozenset(scope.code)
    removed = removed_from_stdlib(scope.python)
    for name in (*_outside(scope.layer, scope.provided), *removed):
        if name.partition(".")[0] not in code and name in sys.modules:
            _hidden.append(sys.modules.pop(name))
    allowed = (layer_names(scope.layer, scope.provided), code, sys.stdlib_module_names, _BUILTINS,
               frozenset({RUNTIME_PACKAGE}))
    sys.meta_path[:] = [_Scoped(finder, allowed, removed, refused) for finder in sys.meta_path]
    _entered.append(scope)


def hint(exc: BaseException) -> str:
    """Why an import failed when the scope this worker entered turned it away ("" otherwise): the
    package is here, but not in the function's layer."""
    top = (getattr(exc, "name", None) or "").partition(".")[0]
    if not isinstance(exc, ModuleNotFoundError) or top not in refused or not _entered:
        return ""
    removed = removed_from_stdlib(_entered[0].python).get(top)
    if removed is not None:
        return (f" ('{top}' was removed from the standard library in Python {removed}: the function's runtime, "
                f"python{_entered[0].python}, has no such module; on Lambda this import fails too)")
    return (f" ('{top}' is installed here but is neither in {_entered[0].layer} nor shipped by the Lambda "
            "runtime: on Lambda this import fails too; add it to the requirements file)")
