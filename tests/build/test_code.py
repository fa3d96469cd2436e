"""The code zip of a service: its handler packages plus exactly the libs it uses."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from stagewise.build.code import build_code


def _build(project_dir: Path, service: str, out: Path):
    return build_code(project_dir / "services" / service, libs_dir=project_dir / "libs", out_dir=out)


def _names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.namelist()


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        pytest.param(
            "alpha",
            [
                "alpha_fn/__init__.py",
                "alpha_fn/handler.py",
                "libs/__init__.py",
                "libs/only_alpha.py",
                "libs/pkg/__init__.py",
                "libs/pkg/schema.json",
                "libs/pkg/sub.py",
                "libs/shared.py",
                "libs/util.py",
            ],
            id="alpha ships its package and only the libs it imports",
        ),
        pytest.param(
            "beta",
            ["beta_fn/__init__.py", "beta_fn/handler.py", "libs/__init__.py", "libs/shared.py", "libs/util.py"],
            id="beta gets shared and util but not alpha's libs",
        ),
    ],
)
def test_a_service_ships_its_package_and_only_the_libs_it_imports(
    project_dir: Path, tmp_path: Path, service: str, expected: list[str]
) -> None:
    code = _build(project_dir, service, tmp_path / "out")

    assert _names(code.path) == expected


def test_stack_tests_requirements_caches_and_dotfiles_are_excluded(project_dir: Path, tmp_path: Path) -> None:
    alpha = project_dir / "services" / "alpha"
    (alpha / "alpha_fn" / "__pycache__").mkdir()
    (alpha / "alpha_fn" / "__pycache__" / "handler.cpython-312.pyc").write_bytes(b"\0")
    (alpha / "alpha_fn" / "stale.pyc").write_bytes(b"\0")
    (alpha / ".env").write_text("SECRET=1\n")
    for stray in (".venv/lib/site.py", "node_modules/pkg/index.js"):
        (alpha / stray).parent.mkdir(parents=True)
        (alpha / stray).write_text("x\n")

    names = _names(_build(project_dir, "alpha", tmp_path / "out").path)

    assert not [n for n in names if n.endswith((".pyc", "stack.py", "requirements.txt", ".env"))]
    assert not [n for n in names if n.startswith(("tests/", ".venv/", "node_modules/"))]
    assert not [n for n in names if "conftest" in n or "unused" in n]


def test_name_is_the_content_hash_and_rebuilds_are_byte_identical(project_dir: Path, tmp_path: Path) -> None:
    first = _build(project_dir, "alpha", tmp_path / "one")
    second = _build(project_dir, "alpha", tmp_path / "two")

    assert first.name == second.name == f"code-{first.digest[:16]}.zip"
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256 and first.key == f"artifacts/{first.name}"


def test_file_modes_and_mtimes_on_disk_do_not_matter(project_dir: Path, tmp_path: Path) -> None:
    before = _build(project_dir, "beta", tmp_path / "one")
    handler = project_dir / "services/beta/beta_fn/handler.py"
    handler.chmod(0o755)
    handler.touch()

    after = _build(project_dir, "beta", tmp_path / "two")

    assert after.path.read_bytes() == before.path.read_bytes()


def test_a_service_folder_without_code_gives_no_zip(project_dir: Path, tmp_path: Path) -> None:
    assert build_code(project_dir / "infra", libs_dir=project_dir / "libs", out_dir=tmp_path) is None
