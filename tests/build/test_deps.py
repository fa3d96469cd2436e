"""The dependency layer, with a fake pip: contents, stripping, caching, and the pip command line."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from stagewise.build import LayerCache
from stagewise.build.deps import LayerSpec, build_layer, normalise_requirements, python_version_of
from stagewise.build.events import BuildStep
from stagewise.build.pip import Arch, PipRequest, run_pip
from stagewise.errors import UserError
from tests.build.conftest import FakePip

SPEC = LayerSpec(("six==1.16.0",), "3.12")


def _infos(path: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: info for info in archive.infolist()}


def test_layer_holds_kept_packages_under_python_prefix(tmp_path: Path, cache: LayerCache, fake_pip) -> None:
    layer = build_layer(SPEC, out_dir=tmp_path / "out", cache=cache, pip=fake_pip)

    assert sorted(_infos(layer.path)) == [
        "python/native.so",
        "python/six-1.16.0.dist-info/METADATA",
        "python/six.py",
        "python/urllib3-2.5.0.dist-info/METADATA",
        "python/urllib3/__init__.py",
    ]
    assert layer.name == f"deps-{layer.digest[:16]}.zip"


def test_runtime_provided_packages_scripts_bytecode_and_churn_are_stripped(
    tmp_path: Path, cache: LayerCache, fake_pip
) -> None:
    names = list(_infos(build_layer(SPEC, out_dir=tmp_path, cache=cache, pip=fake_pip).path))

    for absent in ("boto3", "botocore", "bin/", "__pycache__", "RECORD", "INSTALLER"):
        assert not [n for n in names if absent in n], absent


def test_executable_bit_survives(tmp_path: Path, cache: LayerCache, fake_pip) -> None:
    infos = _infos(build_layer(SPEC, out_dir=tmp_path, cache=cache, pip=fake_pip).path)

    assert infos["python/native.so"].external_attr >> 16 == 0o100755
    assert infos["python/six.py"].external_attr >> 16 == 0o100644


def test_warm_cache_makes_no_pip_call_and_gives_the_same_bytes(tmp_path: Path, cache: LayerCache) -> None:
    pip = FakePip()
    steps: list[BuildStep] = []
    cold = build_layer(
        SPEC, out_dir=tmp_path / "one", cache=cache, pip=pip, notify=lambda s, m: steps.append(s)
    )
    warm = build_layer(
        SPEC, out_dir=tmp_path / "two", cache=cache, pip=pip, notify=lambda s, m: steps.append(s)
    )

    assert len(pip.calls) == 1
    assert steps == [BuildStep.DEPS_INSTALLING, BuildStep.DEPS_BUILT, BuildStep.DEPS_CACHED]
    assert warm.path.read_bytes() == cold.path.read_bytes() and warm.sha256 == cold.sha256


def test_cache_key_covers_requirements_python_and_arch() -> None:
    keys = {
        SPEC.cache_key(),
        LayerSpec(("six==1.17.0",), "3.12").cache_key(),
        LayerSpec(("six==1.16.0",), "3.13").cache_key(),
        LayerSpec(("six==1.16.0",), "3.12", Arch.ARM64).cache_key(),
        LayerSpec(("six==1.16.0",), "3.12", exclude=frozenset()).cache_key(),
    }

    assert len(keys) == 5


def test_requirements_are_normalised_so_comments_and_order_do_not_matter(tmp_path: Path) -> None:
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("# deps\nsix==1.16.0\n\npydantic==2.14.3  # models\n")
    two.write_text("pydantic==2.14.3\nsix==1.16.0\n")

    a = LayerSpec.from_file(one, python_version="3.12")
    b = LayerSpec.from_file(two, python_version="3.12")

    assert a is not None and b is not None and a.cache_key() == b.cache_key()


def test_empty_or_missing_requirements_mean_no_layer(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("# nothing yet\n")

    assert LayerSpec.from_file(tmp_path / "requirements.txt", python_version="3.12") is None
    assert LayerSpec.from_file(tmp_path / "absent.txt", python_version="3.12") is None


@pytest.mark.parametrize("line", ["-r base.txt", "--requirement=base.txt", "-c constraints.txt", "-e ../pkg"])
def test_requirements_pointing_elsewhere_are_refused(tmp_path: Path, line: str) -> None:
    with pytest.raises(UserError, match="list the pinned packages"):
        normalise_requirements(f"six==1.16.0\n{line}\n", where=tmp_path / "requirements.txt")


def test_pip_is_asked_for_the_lambda_platform_not_this_machine() -> None:
    args = PipRequest(Path("/t/python"), Path("/t/req.txt"), "3.12", Arch.ARM64).args()

    assert args[:3] == ["install", "--target", "/t/python"]
    assert "--only-binary=:all:" in args and "--no-compile" in args
    assert args[args.index("--python-version") + 1] == "3.12"
    assert args[args.index("--implementation") + 1] == "cp"
    platforms = [args[i + 1] for i, a in enumerate(args) if a == "--platform"]
    assert platforms[0] == "manylinux2014_aarch64" and all(p.endswith("_aarch64") for p in platforms)


def test_python_version_comes_from_the_runtime() -> None:
    assert python_version_of("python3.12") == "3.12"
    with pytest.raises(UserError, match="not a Python Lambda runtime"):
        python_version_of("nodejs20.x")


def test_a_damaged_cache_entry_is_rebuilt(tmp_path: Path, cache: LayerCache) -> None:
    pip = FakePip()
    first = build_layer(SPEC, out_dir=tmp_path / "one", cache=cache, pip=pip)
    (cache.root / f"{SPEC.cache_key()}.json").write_text("{not json")

    second = build_layer(SPEC, out_dir=tmp_path / "two", cache=cache, pip=pip)

    assert len(pip.calls) == 2
    assert second.path.read_bytes() == first.path.read_bytes()


def test_a_failed_install_leaves_nothing_in_the_cache(tmp_path: Path, cache: LayerCache) -> None:
    spec = LayerSpec(("surely-no-such-package-stagewise==0.0.0",), "3.12")

    def failing(args) -> None:
        raise UserError("pip could not install the requirements for the Lambda platform (exit 1)")

    with pytest.raises(UserError, match="pip could not install"):
        build_layer(spec, out_dir=tmp_path, cache=cache, pip=failing)
    assert cache.get(spec.cache_key()) is None


def test_pip_failure_is_a_user_error_carrying_pips_own_words(tmp_path: Path) -> None:
    args = ["install", "--no-index", "--target", str(tmp_path), "surely-no-such-package-stagewise==0.0.0"]

    with pytest.raises(UserError, match=r"(?s)pip could not install.*No matching distribution.*pinned"):
        run_pip(args)
