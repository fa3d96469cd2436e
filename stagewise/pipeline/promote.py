"""Promotion: DST gets exactly SRC's live build — the same artifact keys, templates rendered for DST.

Data flow: SRC's live pointer → its DeployRecord (refused unless SUCCEEDED) → the checkout guard
(`require_source_checkout`: DST's templates are rendered from the working tree, so it must be at
the commit SRC's build was made from, and clean; a build made from a dirty tree is refused) →
`promote_release` (DST's templates pointing at the same content-named keys in DST's bucket; never
an `unbuilt/` key) → DST's runner ships it, first copying the artifacts DST's account lacks from
SRC's bucket. Every refusal comes before the lock is taken or anything is written.
"""

from __future__ import annotations

from pathlib import Path

from stagewise.build.git import git_state
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


def require_source_checkout(root: Path, record: DeployRecord) -> None:
    """Refuse unless the working tree at `root` is exactly what SRC's build was made from.

    Promote renders DST's templates (IAM policies, routes, functions) from the working tree; only
    when that tree is the build's commit, unchanged, are they the templates SRC deployed and tested.
    """
    stage, build, commit = record.build.stage, record.id, record.build.commit
    redeploy = f"deploy {stage} from a clean commit (stagewise deploy --stage {stage}), then promote"
    if commit is None:
        raise UserError(f"{stage}'s live build {build} was not made in a git repository, so what it tested "
                        f"cannot be rendered again; {redeploy}")
    if record.build.dirty:
        raise UserError(f"{stage}'s live build {build} was made from a working tree with uncommitted changes "
                        f"(on {commit[:12]}), so what it tested cannot be rendered again; {redeploy}")
    here = git_state(root)
    if here.commit != commit:
        at = f"at {here.commit[:12]}" if here.commit else "not in a git repository"
        raise UserError(f"the working tree is {at}, but {stage}'s live build {build} was made from {commit[:12]}; "
                        f"promote renders from the working tree, so check that commit out first: git checkout {commit}")
    if here.dirty:
        raise UserError(f"the working tree has uncommitted changes; promote renders from it, so it must be exactly "
                        f"{stage}'s build {build} (commit {commit[:12]}): commit or stash them, or git checkout {commit}")


def promote(src: StageTarget, dst: Runner) -> RunResult:
    if src.stage.name == dst.stage:
        raise UserError("promote needs two different stages, e.g. stagewise promote dev prod")
    record = source_build(src)
    require_source_checkout(dst.st.project.root, record)
    release = promote_release(dst.st.project, dst.st.stage, record, account_id=dst.st.target.account_id)
    return dst.ship(release, copy_from=None if src.store.bucket == dst.st.store.bucket else src.store)
