"""The dependency layer with the real pip, once per module: platform wheels, stripping, warm cache.

One pip call for three small wheels: six (pure Python, kept), jmespath (provided by the Lambda
runtime, stripped) and MarkupSafe (a compiled wheel: proves pip picked Lambda's cp312
manylinux build, not this machine's interpreter).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from stagewise.build import LayerCache
from stagewise.build.deps import LayerSpec, build_layer
from stagewise.build.pip import run_pip

SPEC = LayerSpec(("MarkupSafe==3.0.2", "jmespath==1.0.1", "six==1.16.0"), "3.12")


class CountingPip:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, args: Sequence[str]) -> None:
        self.calls += 1
        run_pip(args)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> LayerCache:
    return LayerCache(tmp_path_factory.mktemp("pip-cache") / "layers")


@pytest.fixture(scope="module")
def pip() -> CountingPip:
    return CountingPip()


@pytest.fixture(scope="module")
def names(tmp_path_factory: pytest.TempPathFactory, cache: LayerCache, pip: CountingPip) -> list[str]:
    layer = build_layer(SPEC, out_dir=tmp_path_factory.mktemp("out"), cache=cache, pip=pip)
    with zipfile.ZipFile(layer.path) as archive:
        return archive.namelist()


def test_kept_packages_are_under_python(names: list[str]) -> None:
    assert "python/six.py" in names
    assert "python/six-1.16.0.dist-info/METADATA" in names
    assert all(n.startswith("python/") for n in names)


def test_compiled_wheel_is_for_the_lambda_interpreter_and_platform(names: list[str]) -> None:
    compiled = [n for n in names if n.startswith("python/markupsafe/") and n.endswith(".so")]

    assert compiled == ["python/markupsafe/_speedups.cpython-312-x86_64-linux-gnu.so"]


def test_runtime_provided_package_and_churn_are_absent(names: list[str]) -> None:
    assert not [n for n in names if "jmespath" in n]
    assert not [
        n for n in names if n.endswith(("/RECORD", "/INSTALLER", ".pyc")) or n.startswith("python/bin/")
    ]


def test_warm_build_makes_no_pip_call(
    names: list[str], tmp_path: Path, cache: LayerCache, pip: CountingPip
) -> None:
    calls_before = pip.calls

    layer = build_layer(SPEC, out_dir=tmp_path, cache=cache, pip=pip)

    assert pip.calls == calls_before == 1
    with zipfile.ZipFile(layer.path) as archive:
        assert archive.namelist() == names
