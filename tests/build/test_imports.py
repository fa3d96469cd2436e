"""Static analysis of libs imports: every import form, transitively, and nothing unused."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewise.build.imports import LibsIndex, libs_closure
from stagewise.errors import UserError


def _index(project_dir: Path) -> LibsIndex:
    return LibsIndex.scan(project_dir / "libs")


def test_index_names_every_module(project_dir: Path) -> None:
    assert set(_index(project_dir).modules) == {
        "libs", "libs.shared", "libs.util", "libs.only_alpha", "libs.unused", "libs.pkg", "libs.pkg.sub",
    }  # fmt: skip


def test_closure_follows_absolute_relative_and_parent_packages(project_dir: Path) -> None:
    handler = project_dir / "services/alpha/alpha_fn/handler.py"

    used = libs_closure([handler], _index(project_dir))

    assert used == {"libs", "libs.only_alpha", "libs.shared", "libs.util", "libs.pkg", "libs.pkg.sub"}


def test_from_package_import_attribute_is_not_a_module(tmp_path: Path, project_dir: Path) -> None:
    source = tmp_path / "h.py"
    source.write_text("from libs.shared import greet\nfrom libs import not_a_module_but_an_attribute\n")

    assert libs_closure([source], _index(project_dir)) == {"libs", "libs.shared", "libs.util"}


def test_import_inside_a_function_counts(tmp_path: Path, project_dir: Path) -> None:
    source = tmp_path / "h.py"
    source.write_text("def f():\n    import libs.unused\n")

    assert libs_closure([source], _index(project_dir)) == {"libs", "libs.unused"}


def test_missing_libs_module_is_a_user_error_naming_the_file(tmp_path: Path, project_dir: Path) -> None:
    source = tmp_path / "h.py"
    source.write_text("from libs.nope import x\n")

    with pytest.raises(UserError, match=r"h\.py: imports 'libs\.nope'"):
        libs_closure([source], _index(project_dir))


def test_syntax_error_names_file_and_line(tmp_path: Path, project_dir: Path) -> None:
    source = tmp_path / "broken.py"
    source.write_text("x = 1\ndef (:\n")

    with pytest.raises(UserError, match=r"broken\.py:2: syntax error"):
        libs_closure([source], _index(project_dir))


def test_other_packages_are_ignored(tmp_path: Path, project_dir: Path) -> None:
    source = tmp_path / "h.py"
    source.write_text("import json\nfrom . import sibling\nfrom aws_lambda_powertools import Logger\n")

    assert libs_closure([source], _index(project_dir)) == set()
