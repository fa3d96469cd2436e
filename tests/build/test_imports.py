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


@pytest.mark.parametrize(
    ("source_text", "expected"),
    [
        pytest.param(
            "from libs.shared import greet\nfrom libs import not_a_module_but_an_attribute\n",
            {"libs", "libs.shared", "libs.util"},
            id="from package import attribute is not a module",
        ),
        pytest.param("def f():\n    import libs.unused\n", {"libs", "libs.unused"},
                     id="import inside a function counts"),
        pytest.param("import json\nfrom . import sibling\nfrom aws_lambda_powertools import Logger\n", set(),
                     id="other packages are ignored"),
    ],
)
def test_closure_of_one_source(tmp_path: Path, project_dir: Path, source_text: str, expected: set[str]) -> None:
    source = tmp_path / "h.py"
    source.write_text(source_text)

    assert libs_closure([source], _index(project_dir)) == expected


@pytest.mark.parametrize(
    ("name", "source_text", "message"),
    [
        pytest.param("h.py", "from libs.nope import x\n", r"h\.py: imports 'libs\.nope'",
                     id="missing libs module is a user error naming the file"),
        pytest.param("broken.py", "x = 1\ndef (:\n", r"broken\.py:2: syntax error",
                     id="syntax error names file and line"),
    ],
)
def test_bad_source_is_a_user_error(tmp_path: Path, project_dir: Path, name: str, source_text: str, message: str) -> None:
    source = tmp_path / name
    source.write_text(source_text)

    with pytest.raises(UserError, match=message):
        libs_closure([source], _index(project_dir))
