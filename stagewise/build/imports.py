"""Which `libs` modules a service's code uses, found by static analysis with `ast`.

Data flow: `LibsIndex.scan(libs_dir)` maps every module name under `libs/` (`libs`, `libs.x`,
`libs.sub.y`) to its file → `libs_closure(files, index)` parses each service file, collects
the `libs` names it imports (`import libs.x`, `from libs import x`, `from libs.x import y`),
then follows the imports of every libs module it adds (relative ones included) until nothing
new appears. A module brings its parent packages (`libs/__init__.py`, …) with it.

Not seen: imports built at run time (`importlib.import_module("libs." + name)`); import such a
module statically somewhere in the service if it must ship.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from stagewise.errors import UserError

ROOT_PACKAGE = "libs"


@dataclass(frozen=True)
class LibsIndex:
    """Module name → source file for everything importable under `libs/`."""

    root: Path  # the folder that holds libs/ (the repo root)
    modules: dict[str, Path]

    @classmethod
    def scan(cls, libs_dir: Path) -> LibsIndex:
        modules: dict[str, Path] = {}
        if (libs_dir / "__init__.py").is_file():
            for path in sorted(libs_dir.rglob("*.py")):
                if "__pycache__" in path.parts or not _in_packages(path, libs_dir):
                    continue
                modules[_module_name(path, libs_dir.parent)] = path
        return cls(root=libs_dir.parent, modules=modules)

    def is_package(self, module: str) -> bool:
        return self.modules[module].name == "__init__.py"


@dataclass(frozen=True)
class _Imports:
    certain: set[str]  # names that must be modules (`import a.b`, the `a.b` of `from a.b import c`)
    possible: set[str]  # `a.b.c` of `from a.b import c`: a module if one exists, else an attribute


def libs_closure(files: Iterable[Path], index: LibsIndex) -> set[str]:
    """The libs module names the given source files use, transitively, parents included."""
    wanted: set[str] = set()
    pending: list[tuple[Path, str | None]] = [(path, None) for path in files]
    while pending:
        path, module = pending.pop()
        found = _imports_of(path, module=module, index=index)
        for name in sorted(_resolve(found, index=index, where=path)):
            for item in _with_parents(name):
                if item not in wanted:
                    wanted.add(item)
                    pending.append((index.modules[item], item))
    return wanted


def _resolve(found: _Imports, *, index: LibsIndex, where: Path) -> set[str]:
    names = {n for n in found.possible if n in index.modules}
    for name in found.certain:
        if name in index.modules:
            names.add(name)
        else:
            raise UserError(
                f"{where}: imports '{name}', which is not a module under {index.root / ROOT_PACKAGE}; "
                "fix the import or add the module"
            )
    return names


def _imports_of(path: Path, *, module: str | None, index: LibsIndex) -> _Imports:
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as exc:
        raise UserError(f"{path}:{exc.lineno}: syntax error ({exc.msg}); fix it before building") from exc
    package = _package_of(module, index)
    certain: set[str] = set()
    possible: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            certain.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base is None:
                continue
            certain.add(base)
            possible.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return _Imports(
        certain={n for n in certain if _is_libs(n)}, possible={n for n in possible if _is_libs(n)}
    )


def _absolute(node: ast.ImportFrom, package: str | None) -> str | None:
    """The absolute module of a `from … import`; None for a relative import outside libs."""
    if node.level == 0:
        return node.module
    if package is None:
        return None
    parts = package.split(".")
    if node.level - 1 >= len(parts):
        return None
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def _package_of(module: str | None, index: LibsIndex) -> str | None:
    if module is None:
        return None
    return module if index.is_package(module) else module.rpartition(".")[0]


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _is_libs(name: str) -> bool:
    return name == ROOT_PACKAGE or name.startswith(ROOT_PACKAGE + ".")


def _in_packages(path: Path, libs_dir: Path) -> bool:
    """True when every folder from libs/ down to the file is a package (has __init__.py)."""
    folder = path.parent
    while folder != libs_dir:
        if not (folder / "__init__.py").is_file():
            return False
        folder = folder.parent
    return True


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)
