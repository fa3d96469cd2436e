"""The dependency layer of a service: its requirements.txt as Lambda-platform wheels, zipped once.

Data flow: `LayerSpec.from_file(requirements.txt, python_version=…, arch=…)` normalises the
requirements → `spec.cache_key()` hashes them with the platform, Python version and stripping
rules → on a cache hit the cached zip is placed in `out_dir` with no pip call at all → on a miss
pip installs into `<tmp>/python` for the Lambda platform (`pip.PipRequest`), `layer_entries`
drops what the Lambda runtime already provides (boto3, botocore, s3transfer, jmespath), console
scripts, bytecode and install-time churn (RECORD, INSTALLER, …), and the rest is zipped
deterministically under `python/` (where Lambda looks in a layer) as `deps-<sha256[:16]>.zip`.

Only four packages are stripped: the ones AWS ships *and keeps coherent with each other* in the
runtime. urllib3, python-dateutil and six are kept, because other packages pin versions of them
that the runtime does not promise.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from stagewise.build.artifact import Artifact, ArtifactKind, artifact_name
from stagewise.build.cache import CachedLayer, LayerCache, place
from stagewise.build.events import BuildStep
from stagewise.build.pip import Arch, PipRequest, PipRunner, run_pip
from stagewise.build.zipping import Entry, content_digest, write_zip
from stagewise.errors import UserError

RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})
LAYER_PREFIX = "python"
LAYER_FORMAT = 1  # bump when the stripping rules change: it invalidates every cached layer
DIST_INFO_CHURN = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
_UNHASHABLE = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable")

Notify = Callable[[BuildStep, str], None]


def _silent(step: BuildStep, message: str) -> None:
    """Default notifier: say nothing."""


@dataclass(frozen=True)
class LayerSpec:
    """Everything that decides a layer's contents."""

    requirements: tuple[str, ...]  # normalised: no comments or blank lines, sorted
    python_version: str
    arch: Arch = Arch.X86_64
    exclude: frozenset[str] = RUNTIME_PROVIDED

    @classmethod
    def from_file(cls, path: Path, *, python_version: str, arch: Arch = Arch.X86_64) -> LayerSpec | None:
        """The spec of a requirements file; None when it is missing or lists nothing."""
        if not path.is_file():
            return None
        lines = normalise_requirements(path.read_text(), where=path)
        return cls(tuple(lines), python_version, arch) if lines else None

    def cache_key(self) -> str:
        payload = {
            "format": LAYER_FORMAT,
            "requirements": list(self.requirements),
            "python": self.python_version,
            "platforms": self.arch.platforms(),
            "exclude": sorted(self.exclude),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def normalise_requirements(text: str, *, where: Path) -> list[str]:
    lines = set()
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        if line.split()[0] in _UNHASHABLE or line.startswith(("--requirement=", "--constraint=")):
            raise UserError(
                f"{where}: '{line}' points at another file or a local checkout, which the layer cache "
                "cannot see change; list the pinned packages in this file instead"
            )
        lines.add(line)
    return sorted(lines)


def python_version_of(runtime: str) -> str:
    """'python3.12' → '3.12'."""
    match = re.fullmatch(r"python(\d+\.\d+)", runtime)
    if not match:
        raise UserError(f"runtime '{runtime}' is not a Python Lambda runtime (expected e.g. python3.12)")
    return match.group(1)


def build_layer(
    spec: LayerSpec,
    *,
    out_dir: Path,
    cache: LayerCache,
    pip: PipRunner = run_pip,
    notify: Notify = _silent,
) -> Artifact:
    """The layer zip for `spec` in `out_dir`: from the cache, else built with pip and cached."""
    key = spec.cache_key()
    cached = cache.get(key)
    if cached is None:
        notify(
            BuildStep.DEPS_INSTALLING,
            f"pip: {len(spec.requirements)} requirement(s) for python{spec.python_version} {spec.arch.value}",
        )
        cached = _install_and_cache(spec, key=key, cache=cache, pip=pip)
        notify(BuildStep.DEPS_BUILT, f"layer {artifact_name(ArtifactKind.DEPS, cached.digest)}")
    else:
        notify(BuildStep.DEPS_CACHED, f"layer {artifact_name(ArtifactKind.DEPS, cached.digest)} (cached)")
    dest = out_dir / artifact_name(ArtifactKind.DEPS, cached.digest)
    place(cached.zip_path, dest)
    return Artifact(ArtifactKind.DEPS, dest, cached.digest, cached.sha256, dest.stat().st_size)


def _install_and_cache(spec: LayerSpec, *, key: str, cache: LayerCache, pip: PipRunner) -> CachedLayer:
    with tempfile.TemporaryDirectory(prefix="stagewise-deps-") as tmp:
        work = Path(tmp)
        requirements = work / "requirements.txt"
        requirements.write_text("\n".join(spec.requirements) + "\n")
        site = work / LAYER_PREFIX
        pip(PipRequest(site, requirements, spec.python_version, spec.arch).args())
        entries = layer_entries(site, exclude=spec.exclude)
        digest = content_digest(entries)
        zip_path = work / "layer.zip"
        sha256 = write_zip(entries, zip_path)
        return cache.put(key, zip_path=zip_path, digest=digest, sha256=sha256)


def layer_entries(site: Path, *, exclude: frozenset[str]) -> list[Entry]:
    """The files of an installed `site` folder as layer entries under python/, minus what is excluded."""
    site = site.resolve()
    dropped = _files_of_excluded(site, exclude)
    entries = []
    for path in sorted(site.rglob("*")):
        if not path.is_file() or path in dropped or _is_churn(path.relative_to(site)):
            continue
        rel = path.relative_to(site).as_posix()
        executable = bool(path.stat().st_mode & 0o111)
        entries.append(Entry(f"{LAYER_PREFIX}/{rel}", path.read_bytes(), executable=executable))
    return entries


def normalise_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _files_of_excluded(site: Path, exclude: frozenset[str]) -> set[Path]:
    """Every file an excluded distribution installed, read from its dist-info RECORD."""
    wanted = {normalise_name(n) for n in exclude}
    dropped: set[Path] = set()
    for dist_info in site.glob("*.dist-info"):
        if normalise_name(dist_info.name.split("-", 1)[0]) not in wanted:
            continue
        dropped.update(p for p in dist_info.rglob("*") if p.is_file())
        record = dist_info / "RECORD"
        if record.is_file():
            for row in csv.reader(io.StringIO(record.read_text())):
                if row:
                    dropped.add((site / row[0]).resolve())
    return {p.resolve() for p in dropped}


def _is_churn(rel: Path) -> bool:
    parts = rel.parts
    if parts[0] == "bin" or "__pycache__" in parts or rel.suffix in (".pyc", ".pyo"):
        return True  # console scripts carry this machine's interpreter path in their shebang
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] in DIST_INFO_CHURN
