"""The code zip of one service: its handler packages plus exactly the `libs` modules they use.

Data flow: `service_sources(service_dir)` lists the files to ship from the service folder
(everything except stack.py, requirements.txt, tests/, caches and dotfiles) →
`imports.libs_closure` finds the libs modules those files import, transitively →
`code_entries` reads them as zip entries (`notes_api/...`, `libs/...`: the zip root is what
Lambda puts on sys.path, matching the `<package>.<module>.<attr>` handler convention) →
`build_code` names the zip by its content hash and writes it once (`code-<sha256[:16]>.zip`).
"""

from __future__ import annotations

import os
from pathlib import Path

from stagewise.build.artifact import Artifact, ArtifactKind, artifact_name
from stagewise.build.imports import LibsIndex, libs_closure
from stagewise.build.zipping import Entry, content_digest, file_sha256, write_zip

ROOT_EXCLUDED = frozenset({"stack.py", "requirements.txt"})
DIR_EXCLUDED = frozenset({"tests", "__pycache__", "node_modules"})
FILE_EXCLUDED = frozenset({"conftest.py"})
SUFFIX_EXCLUDED = frozenset({".pyc", ".pyo"})
LIBS_DATA_EXCLUDED = frozenset({".py", ".pyc", ".pyo", ".pyi", ".md"})


def service_sources(service_dir: Path) -> list[Path]:
    """The files of a service folder that belong in its code zip, sorted.

    Excluded folders are pruned, not walked: a stray .venv or node_modules costs nothing.
    """
    files = []
    for folder, dirs, names in os.walk(service_dir):
        dirs[:] = [d for d in dirs if d not in DIR_EXCLUDED and not d.startswith(".")]
        for name in names:
            path = Path(folder, name)
            if path.is_file() and not _excluded(path.relative_to(service_dir)):
                files.append(path)
    return sorted(files)


def code_entries(service_dir: Path, *, libs_dir: Path) -> list[Entry]:
    """Zip entries of the service's code and the libs modules (and their package data) it uses."""
    sources = service_sources(service_dir)
    entries = [Entry(p.relative_to(service_dir).as_posix(), p.read_bytes()) for p in sources]
    index = LibsIndex.scan(libs_dir)
    python_sources = [p for p in sources if p.suffix == ".py"]
    modules = libs_closure(python_sources, index)
    libs_files = {index.modules[name] for name in modules}
    libs_files.update(_package_data(index, modules))
    entries += [Entry(p.relative_to(index.root).as_posix(), p.read_bytes()) for p in sorted(libs_files)]
    return entries


def build_code(service_dir: Path, *, libs_dir: Path, out_dir: Path) -> Artifact | None:
    """Write (or reuse) the service's content-named code zip in `out_dir`; None when there is no code."""
    entries = code_entries(service_dir, libs_dir=libs_dir)
    if not entries:
        return None
    digest = content_digest(entries)
    dest = out_dir / artifact_name(ArtifactKind.CODE, digest)
    sha256 = file_sha256(dest) if dest.is_file() else write_zip(entries, dest)
    return Artifact(kind=ArtifactKind.CODE, path=dest, digest=digest, sha256=sha256, size=dest.stat().st_size)


def _excluded(rel: Path) -> bool:
    parts = rel.parts
    if len(parts) == 1 and parts[0] in ROOT_EXCLUDED:
        return True
    if any(part in DIR_EXCLUDED or part.startswith(".") for part in parts):
        return True
    return parts[-1] in FILE_EXCLUDED or rel.suffix in SUFFIX_EXCLUDED


def _package_data(index: LibsIndex, modules: set[str]) -> set[Path]:
    """Non-Python files (JSON schemas, templates) sitting directly in a shipped libs package."""
    data = set()
    for name in modules:
        if not index.is_package(name):
            continue
        folder = index.modules[name].parent
        data.update(
            p
            for p in folder.iterdir()
            if p.is_file() and p.suffix not in LIBS_DATA_EXCLUDED and not p.name.startswith(".")
        )
    return data
