"""Shared fixtures of the build tests: a fresh copy of the fixture project, a fake pip, a cache.

The fixture project (fixtures/project) holds two services and a libs package; tests copy it
into a temporary folder so they can edit files freely.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from stagewise.build import LayerCache
from stagewise.config import Project, load_project

collect_ignore_glob = ["fixtures/*"]

FIXTURE = Path(__file__).parent / "fixtures" / "project"


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    dest = tmp_path / "project"
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture
def project(project_dir: Path) -> Project:
    return load_project(project_dir / "stagewise.toml")


@pytest.fixture
def cache(tmp_path: Path) -> LayerCache:
    return LayerCache(tmp_path / "cache" / "layers")


class FakePip:
    """Stands in for pip: records each call and installs a small fake site into --target.

    The site holds what a real install of powertools-like requirements leaves behind: a kept
    package (six), runtime-provided ones (boto3, botocore) with RECORD files, a console script
    in bin/, bytecode, and install-time churn in the dist-info folders.
    """

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, args: Sequence[str]) -> None:
        self.calls.append(list(args))
        site = Path(args[args.index("--target") + 1])
        _dist(site, "six", "1.16.0", {"six.py": "# six\n"})
        _dist(site, "boto3", "1.44.5", {"boto3/__init__.py": "# boto3\n", "boto3/session.py": "#\n"})
        _dist(site, "botocore", "1.44.5", {"botocore/__init__.py": "# botocore\n"})
        _dist(site, "urllib3", "2.5.0", {"urllib3/__init__.py": "# urllib3\n"})
        _write(site / "bin" / "six-tool", "#!/home/someone/.venv/bin/python\n")
        _write(site / "__pycache__" / "six.cpython-312.pyc", "bytecode")
        lib = site / "native.so"
        _write(lib, "ELF")
        lib.chmod(0o755)


def _dist(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    info = site / f"{name}-{version}.dist-info"
    for rel, text in files.items():
        _write(site / rel, text)
    _write(info / "METADATA", f"Name: {name}\nVersion: {version}\n")
    _write(info / "INSTALLER", "pip\n")
    record = [f"{rel},sha256=x,1" for rel in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    _write(info / "RECORD", "\n".join(record) + "\n")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def fake_pip() -> FakePip:
    return FakePip()
