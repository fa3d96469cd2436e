"""build_all / build_service_artifacts over the fixture project: what changes when a file changes."""

from __future__ import annotations

import time
from pathlib import Path

from stagewise.build import BuildEvent, BuildStep, LayerCache, build_all, build_service_artifacts
from stagewise.config import Project
from tests.build.conftest import FakePip


def _code_names(built) -> dict[str, str | None]:
    return {name: (a.code.name if a.code else None) for name, a in built.items()}


def test_build_all_gives_code_per_service_and_a_layer_where_requirements_exist(
    project: Project, tmp_path: Path, cache: LayerCache, fake_pip: FakePip
) -> None:
    built = build_all(project, tmp_path / "out", pip=fake_pip, cache=cache)

    assert sorted(built) == ["alpha", "beta", "infra"]
    assert built["alpha"].code is not None and built["alpha"].layer is not None
    assert built["beta"].code is not None and built["beta"].layer is None
    assert built["infra"].code is None and built["infra"].layer is None
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == sorted([built["alpha"].code.name, built["alpha"].layer.name, built["beta"].code.name])


def test_two_builds_are_byte_identical(project: Project, tmp_path: Path, cache: LayerCache, fake_pip) -> None:
    one = build_all(project, tmp_path / "one", pip=fake_pip, cache=cache)
    two = build_all(project, tmp_path / "two", pip=fake_pip, cache=cache)

    for name in one:
        for a, b in zip(one[name].artifacts, two[name].artifacts, strict=True):
            assert a.name == b.name and a.path.read_bytes() == b.path.read_bytes()


def test_a_changed_handler_changes_only_its_service(
    project: Project, project_dir: Path, tmp_path: Path, cache: LayerCache, fake_pip
) -> None:
    before = _code_names(build_all(project, tmp_path / "one", pip=fake_pip, cache=cache))
    handler = project_dir / "services/beta/beta_fn/handler.py"
    handler.write_text(handler.read_text() + "\n# changed\n")

    after = _code_names(build_all(project, tmp_path / "two", pip=fake_pip, cache=cache))

    assert after["beta"] != before["beta"]
    assert after["alpha"] == before["alpha"]


def test_a_changed_libs_module_changes_only_the_services_that_import_it(
    project: Project, project_dir: Path, tmp_path: Path, cache: LayerCache, fake_pip
) -> None:
    first = _code_names(build_all(project, tmp_path / "a", pip=fake_pip, cache=cache))
    (project_dir / "libs/only_alpha.py").write_text('NAME = "alpha v2"\n')
    second = _code_names(build_all(project, tmp_path / "b", pip=fake_pip, cache=cache))
    (project_dir / "libs/util.py").write_text('PREFIX = "hi "\n')
    third = _code_names(build_all(project, tmp_path / "c", pip=fake_pip, cache=cache))
    (project_dir / "libs/unused.py").write_text("X = 1\n")
    fourth = _code_names(build_all(project, tmp_path / "d", pip=fake_pip, cache=cache))

    assert second["alpha"] != first["alpha"] and second["beta"] == first["beta"]
    assert third["alpha"] != second["alpha"] and third["beta"] != second["beta"]
    assert fourth == third


def test_services_with_equal_requirements_share_one_layer(
    project: Project, project_dir: Path, tmp_path: Path, cache: LayerCache
) -> None:
    pip = FakePip()
    (project_dir / "services/beta/requirements.txt").write_text("six==1.16.0\n")

    built = build_all(project, tmp_path / "out", pip=pip, cache=cache)

    assert built["alpha"].layer.key == built["beta"].layer.key
    assert len(pip.calls) == 1


def test_progress_reports_each_step(project: Project, tmp_path: Path, cache: LayerCache, fake_pip) -> None:
    events: list[BuildEvent] = []

    build_service_artifacts(
        project, "alpha", out_dir=tmp_path, pip=fake_pip, cache=cache, progress=events.append
    )
    build_service_artifacts(
        project, "alpha", out_dir=tmp_path, pip=fake_pip, cache=cache, progress=events.append
    )

    assert [(e.service, e.step) for e in events] == [
        ("alpha", BuildStep.CODE_BUILT),
        ("alpha", BuildStep.DEPS_INSTALLING),
        ("alpha", BuildStep.DEPS_BUILT),
        ("alpha", BuildStep.CODE_BUILT),
        ("alpha", BuildStep.DEPS_CACHED),
    ]


def test_only_the_named_services_are_built(
    project: Project, tmp_path: Path, cache: LayerCache, fake_pip
) -> None:
    built = build_all(project, tmp_path, services=["beta"], pip=fake_pip, cache=cache)

    assert list(built) == ["beta"]
    assert fake_pip.calls == []


def test_warm_build_is_fast_and_calls_no_pip(project: Project, tmp_path: Path, cache: LayerCache) -> None:
    build_all(project, tmp_path / "cold", pip=FakePip(), cache=cache)
    pip = FakePip()

    started = time.perf_counter()
    built = build_all(project, tmp_path / "warm", pip=pip, cache=cache)
    elapsed = time.perf_counter() - started

    assert pip.calls == []
    assert elapsed < 3.0
    assert all(a.code is None or a.code.size < 200_000 for a in built.values())
