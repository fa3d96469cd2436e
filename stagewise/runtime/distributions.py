"""What a dependency layer holds, read from stagewise's own environment (stdlib only).

Data flow: a function folder's requirements file (the input of its built layer) → `requirements(path)`:
(distribution, extras) per line → `installed(name)`: the distribution installed here, if any →
`dependencies(dist, extras)`: what it requires always, and what it requires for the extras asked for
(other markers are not evaluated) → `import_names(dist)`: its top-level import names. The worker
template's preload (`preload.py`) takes the layers' direct distributions; a worker's import scope
(`import_scope.py`) follows them transitively.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

Requirement = tuple[str, set[str]]  # (normalised distribution name, normalised extras)

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def normal_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_of(line: str) -> Requirement | None:
    """(distribution name, extras) of one requirements line; None for comments, options, blanks."""
    line = line.split("#", 1)[0].strip()
    match = _NAME.match(line) if line and not line.startswith("-") else None
    if match is None:
        return None
    extras = {normal_name(e) for e in (match.group(2) or "").split(",") if e.strip()}
    return normal_name(match.group(1)), extras


def requirements(path: str | Path) -> list[Requirement]:
    """The requirements a file lists ([] when it is missing)."""
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    return [parsed for parsed in map(requirement_of, lines) if parsed is not None]


def installed(name: str) -> importlib.metadata.Distribution | None:
    try:
        return importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def dependencies(dist: importlib.metadata.Distribution, extras: set[str]) -> tuple[list[Requirement], list[Requirement]]:
    """(what the distribution always requires, what it requires for `extras`)."""
    always, extra_ones = [], []
    for entry in dist.requires or []:
        spec, _, marker = entry.partition(";")
        parsed = requirement_of(spec)
        extra = _EXTRA.search(marker)
        if parsed is None:
            continue
        if extra is None:
            always.append(parsed)
        elif normal_name(extra.group(1)) in extras:
            extra_ones.append(parsed)
    return always, extra_ones


def import_names(dist: importlib.metadata.Distribution) -> set[str]:
    """A distribution's top-level import names: its top_level.txt, else the first part of its files."""
    declared = dist.read_text("top_level.txt")
    if declared:
        return {line.strip() for line in declared.splitlines() if line.strip()}
    names = set()
    for file in dist.files or []:
        parts = file.parts
        if not parts or parts[0] == ".." or parts[0].endswith((".dist-info", ".egg-info", ".data")):
            continue
        if len(parts) > 1 and parts[0] != "__pycache__":
            names.add(parts[0])
        elif file.suffix in (".py", ".so", ".pyd"):
            names.add(file.name.partition(".")[0])
    return names
