"""Deploy figures for `make bench`: full deploy to an empty local cloud, no-op deploy, one-service change.

Data flow: copy the project to a temp dir → start a local cloud there on a free port → bootstrap
the stage's account → time `build_release` + `Runner.ship`: from empty; unchanged; after appending a
comment to one service's handler file (CHANGE_ROUNDS times, the median kept: a ~0.25 s figure moves
with what ran before it), counting the AWS write calls of each → `DeployFigures`. Everything started is stopped. Run: python -m stagewise.pipeline.bench [project dir]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagewise.config import Project, load_project
from stagewise.domains import ensure_zone
from stagewise.net import free_port

READS = ("Get", "List", "Describe", "Head")
CHANGE_ROUNDS = 3
IGNORED = shutil.ignore_patterns(".git", ".venv", ".stagewise", "__pycache__", "*.pyc", ".pytest_cache", "node_modules")


@dataclass(frozen=True)
class Timing:
    build_s: float
    ship_s: float
    writes: int
    outcome: dict[str, str]

    @property
    def total_s(self) -> float:
        return round(self.build_s + self.ship_s, 3)


@dataclass(frozen=True)
class DeployFigures:
    stacks: int
    full: Timing
    no_op: Timing
    one_change: Timing  # the median of CHANGE_ROUNDS
    first_change: Timing  # the first of them (the change's own code paths still cold in this process)
    changed_service: str


def _changed_file(project: Project) -> tuple[str, Path]:
    """A handler file of the first non-infra service that has Python code beside its stack."""
    for service in sorted(project.services.values(), key=lambda s: s.name):
        if service.infra:
            continue
        files = sorted(p for p in service.path.rglob("*.py") if p.name != "stack.py" and "tests" not in p.parts)
        if files:
            return service.name, files[0]
    raise SystemExit("no service with handler code to change")


def measure(project_dir: Path, *, stage: str = "dev") -> DeployFigures:
    from stagewise.cloud import LocalCloud

    with tempfile.TemporaryDirectory(prefix="stagewise-bench-") as tmp:
        root = Path(tmp) / "project"
        shutil.copytree(project_dir, root, ignore=IGNORED)
        cloud = LocalCloud(Path(tmp) / "cloud", free_port())
        try:
            cloud.start()
            return _measure(root, cloud, stage, Path(tmp) / "build")
        finally:
            cloud.stop()


def _measure(root: Path, cloud: Any, stage: str, out_dir: Path) -> DeployFigures:
    from stagewise.pipeline.runner import open_stage  # noqa: F401  (keeps import cost out of the timings)

    writes: list[str] = []
    project = load_project(root / "stagewise.toml")
    run = _runner_factory(project, cloud, stage, writes)
    run(None).st.store.bootstrap()
    config = project.stage(stage)
    if config.domain:  # the zone a team makes once (`stagewise domains zone`); not part of a deploy's figures
        ensure_zone(run(None).st.target.client("route53"), config.domain, comment="bench")
    full = _timed(project, stage, out_dir, run, writes)
    no_op = _timed(project, stage, out_dir, run, writes)
    service, path = _changed_file(project)
    changes = []
    for round_ in range(CHANGE_ROUNDS):
        path.write_text(path.read_text() + f"\n# bench: one-service change {round_}\n")
        changes.append(_timed(load_project(root / "stagewise.toml"), stage, out_dir, run, writes))
    one = sorted(changes, key=lambda timing: timing.total_s)[len(changes) // 2]
    return DeployFigures(len(full.outcome), full, no_op, one, changes[0], service)


def _timed(project: Project, stage: str, out_dir: Path, run: Any, writes: list[str]) -> Timing:
    from stagewise.pipeline.source import build_release

    config = project.stage(stage)
    began = time.perf_counter()
    release = build_release(project, config, account_id=project.accounts[config.account].id, out_dir=out_dir)
    built = time.perf_counter()
    writes.clear()
    result = run(project).ship(release)
    shipped = time.perf_counter()
    return Timing(round(built - began, 3), round(shipped - built, 3), len(writes),
                  {o.stack: o.outcome.value for o in result.outcomes})


def _runner_factory(project: Project, cloud: Any, stage: str, writes: list[str]) -> Any:
    from stagewise.cloud import client
    from stagewise.pipeline.progress import QuietProgress
    from stagewise.pipeline.runner import Runner, StageTarget
    from stagewise.pipeline.store import PipelineStore
    from stagewise.providers.factory import provider_for
    from stagewise.target import Target

    endpoint = cloud.endpoint

    config = project.stage(stage)
    account_id = project.accounts[config.account].id

    def factory(service: str) -> Any:
        made = client(endpoint, account_id=account_id, region=config.region, service=service)

        def log(model: Any, **_: Any) -> None:
            if not model.name.startswith(READS):
                writes.append(f"{service}:{model.name}")

        made.meta.events.register("before-call", log)
        return made

    def runner(current: Project | None) -> Runner:
        target = Target(account_id, config.region, True, factory, endpoint, cloud.state_dir)
        store = PipelineStore(factory("s3"), account_id=account_id, region=config.region, account_name=config.account)
        st = StageTarget(current or project, config, target, provider_for(target), store)
        return Runner(st, reporter=QuietProgress(), confirm=lambda plan: True, command="bench")

    return runner


def main() -> None:
    project_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    figures = measure(project_dir)
    print(f"stacks: {figures.stacks}")
    for label, timing in (("full deploy (empty cloud)", figures.full), ("no-op deploy", figures.no_op),
                          (f"one-service change ({figures.changed_service}), median", figures.one_change),
                          ("  the first of those changes", figures.first_change)):
        print(f"{label:<40} build {timing.build_s:6.2f}s  ship {timing.ship_s:6.2f}s  total {timing.total_s:6.2f}s"
              f"  writes {timing.writes:4d}  {timing.outcome}")


if __name__ == "__main__":
    main()
