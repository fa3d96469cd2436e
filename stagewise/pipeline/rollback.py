"""Rollback: redeploy an earlier SUCCEEDED build of a stage, without building or rendering anything.

Data flow: the stage's history → the build to go back to (`--to`, else the newest SUCCEEDED deploy
before the live one) → `rollback_release` (its templates exactly as recorded) → the runner ships
it. The order comes from `order.phases` over the live and the old export graphs: a stack whose
old version drops an export that live stacks import runs after those importers.
"""

from __future__ import annotations

from stagewise.build.record import BuildResult
from stagewise.errors import UserError
from stagewise.pipeline.history import DeployRecord, History, Kind
from stagewise.pipeline.runner import Runner, RunResult
from stagewise.pipeline.source import rollback_release


def choose_build(history: History, stage: str, to: str | None) -> DeployRecord:
    live = history.live(stage).build
    if to is not None:
        record = history.load(stage, to)
        if record.result is not BuildResult.SUCCEEDED:
            raise UserError(f"build {to} of stage '{stage}' is {record.result.value}; "
                            "roll back only to a build that deployed completely (see `stagewise builds`)")
        return record
    shipped = [r for r in history.records(stage) if r.kind is not Kind.REMOVE and r.result is BuildResult.SUCCEEDED]
    ids = [r.id for r in shipped]
    if live in ids:
        shipped = shipped[:ids.index(live)]
    candidates = [r for r in shipped if r.id != live]
    if not candidates:
        raise UserError(f"stage '{stage}' has no earlier successful build to roll back to (see `stagewise builds {stage}`)")
    return candidates[-1]


def rollback(runner: Runner, to: str | None) -> RunResult:
    record = choose_build(runner.st.history, runner.stage, to)
    return runner.ship(rollback_release(record))
