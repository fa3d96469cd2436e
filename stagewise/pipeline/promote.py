"""Promotion: DST gets exactly SRC's live build — the same artifact keys, templates rendered for DST.

Data flow: SRC's live pointer → its DeployRecord (refused unless SUCCEEDED) → `promote_release`
(DST's templates pointing at the same content-named keys in DST's bucket) → DST's runner ships it,
first copying the artifacts DST's account lacks from SRC's bucket.
"""

from __future__ import annotations

from stagewise.build.record import BuildResult
from stagewise.errors import UserError
from stagewise.pipeline.history import DeployRecord
from stagewise.pipeline.runner import Runner, RunResult, StageTarget
from stagewise.pipeline.source import promote_release


def source_build(src: StageTarget) -> DeployRecord:
    name = src.stage.name
    pointer = src.history.live(name)
    if pointer.build is None:
        raise UserError(f"stage '{name}' has no live build to promote; deploy it first: stagewise deploy --stage {name}")
    record = src.history.load(name, pointer.build)
    if record.result is not BuildResult.SUCCEEDED:
        raise UserError(f"build {record.id} of stage '{name}' is {record.result.value}, not SUCCEEDED; "
                        "only a build that deployed completely can be promoted")
    return record


def promote(src: StageTarget, dst: Runner) -> RunResult:
    if src.stage.name == dst.stage:
        raise UserError("promote needs two different stages, e.g. stagewise promote dev prod")
    record = source_build(src)
    release = promote_release(dst.st.project, dst.st.stage, record, account_id=dst.st.target.account_id)
    return dst.ship(release, copy_from=None if src.store.bucket == dst.st.store.bucket else src.store)
