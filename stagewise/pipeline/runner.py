"""The pipeline's flows — ship a release (deploy, promote, rollback), remove a stage, diff — over one
`StageTarget` (provider + store + history of a stage's account).

Data flow of `ship(release)`:
    read the live pointer (and the templates live now) → everything identical and healthy?
        → NOTHING, with zero write calls (not even the lock)
    → take the stage lock → recover from an interrupted run (its record says PENDING)
    → upload missing artifacts → make the StagePlan → `confirm(plan)` (shown by the caller)
    → record PENDING → execute phases → record SUCCEEDED / FAILED with each stack's outcome
    → move the live pointer (its build only on success) → release the lock.
`diff` makes the same plan and discards it; `remove` plans every live stack's removal.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from stagewise.build.git import GitState
from stagewise.build.record import BuildRecord, BuildResult
from stagewise.config import Project, StageConfig
from stagewise.errors import UserError
from stagewise.pipeline.executor import Outcome, Reporter, StackOutcome, execute
from stagewise.pipeline.history import DeployRecord, History, Kind, LivePointer, StackEntry
from stagewise.pipeline.planner import StagePlan, discard, make_plan
from stagewise.pipeline.retained import Retained, retained_resources
from stagewise.pipeline.source import Release
from stagewise.pipeline.store import LockHeld, LockHolder, PipelineStore, me
from stagewise.providers.base import Provider, StackHealth
from stagewise.providers.cloudformation import StackOptions
from stagewise.target import Target


class ExitCode(enum.IntEnum):
    OK = 0
    FAILED = 1  # a stack failed; the stage keeps serving the last good build
    USAGE = 2  # a UserError: the message says what to do
    LOCKED = 3  # another run holds the stage's lock
    CANCELLED = 4  # the plan was not confirmed


class RunState(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    NOTHING = "nothing-to-do"
    CANCELLED = "cancelled"


class Notes(Reporter, Protocol):
    def note(self, text: str) -> None: ...


@dataclass
class StageTarget:
    """Everything a pipeline command needs for one stage; built by `open_stage`."""

    project: Project
    stage: StageConfig
    target: Target
    provider: Provider
    store: PipelineStore

    @property
    def history(self) -> History:
        return History(self.store)


def open_stage(project: Project, stage: StageConfig, *, local: bool) -> StageTarget:
    from stagewise.providers.factory import provider_for
    from stagewise.target import target_for

    target = target_for(project, stage, local=local)
    store = PipelineStore(target.client("s3"), account_id=target.account_id, region=target.region,
                          account_name=stage.account)
    return StageTarget(project, stage, target, provider_for(target, upload=store.put_template), store)


@dataclass(frozen=True)
class RunResult:
    stage: str
    kind: Kind
    state: RunState
    build: str = ""
    outcomes: tuple[StackOutcome, ...] = ()
    plan: StagePlan | None = None
    retained: tuple[Retained, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> ExitCode:
        return {RunState.FAILED: ExitCode.FAILED, RunState.CANCELLED: ExitCode.CANCELLED}.get(self.state, ExitCode.OK)

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage, "kind": self.kind.value, "result": self.state.value, "build": self.build,
            "stacks": [{"stack": o.stack, "phase": o.phase + 1, "outcome": o.outcome.value,
                        "seconds": o.seconds, "reason": o.reason} for o in self.outcomes],
            "retained": [{"stack": r.stack, "logical_id": r.logical_id, "type": r.resource_type,
                          "physical_id": r.physical_id} for r in self.retained],
        }


Confirm = Callable[[StagePlan], bool]


class Runner:
    def __init__(self, st: StageTarget, *, reporter: Notes, confirm: Confirm, command: str) -> None:
        self.st = st
        self.reporter = reporter
        self.confirm = confirm
        self.command = command

    @property
    def stage(self) -> str:
        return self.st.stage.name

    # -- reading the live state ---------------------------------------------------------------
    def live_templates(self, pointer: LivePointer) -> dict[str, dict[str, Any]]:
        """The template each live stack was deployed with, from the newest record that shipped it."""
        wanted = dict(pointer.fingerprints)
        found: dict[str, dict[str, Any]] = {}
        for build_id in reversed(self.st.history.ids(self.stage)) if wanted else []:
            for name, entry in self.st.history.load(self.stage, build_id).stacks.items():
                if wanted.get(name) == entry.fingerprint and name not in found:
                    found[name] = entry.template
            if len(found) == len(wanted):
                break
        return found

    def plan(self, release: Release) -> StagePlan:
        pointer = self.st.history.live(self.stage)
        return make_plan(self.st.provider, stage=self.stage, new=release.stacks, live=pointer,
                         live_templates=self.live_templates(pointer),
                         options_for=lambda stack, entry: self.stack_options(entry, release.record.id))

    def stack_options(self, entry: StackEntry, build: str) -> StackOptions:
        """Every stack is tagged with its app, stage, service and build; a protected stage's stacks are protected."""
        tags = {"app": self.st.project.app.name, "stage": self.stage, "service": entry.service, "build": build}
        return StackOptions(tags=tags, protect=bool(self.st.stage.protect))

    def with_parameters(self, release: Release) -> Release:
        """`release` with the parameters only the target account knows (a domain stack's hosted zone); a
        missing zone stops here, before anything is touched."""
        from stagewise.stacks.domain import zone_parameters

        stacks = {name: replace(entry, parameters={**entry.parameters, **zone_parameters(
            entry.template, project=self.st.project, stage=self.st.stage, target=self.st.target)})
            for name, entry in release.stacks.items()}
        return replace(release, stacks=stacks)

    def diff(self, release: Release) -> StagePlan:
        """The plan deploy would run, then dropped. It holds the lock while its change sets exist: a
        first create's change set makes a REVIEW_IN_PROGRESS stack that a deploy must not meet."""
        self.st.store.require_bootstrapped()
        release = self.with_parameters(release)
        self._lock()
        try:
            plan = self.plan(release)
            discard(self.st.provider, plan.stacks)
        finally:
            self.st.store.release(self.stage)
        return plan

    # -- lock ---------------------------------------------------------------------------------
    def _lock(self) -> LockHolder:
        holder = me(self.command)
        self.st.store.acquire(self.stage, holder)
        return holder

    def force_unlock(self, confirm: Callable[[LockHolder], bool]) -> bool:
        holder = self.st.store.lock_holder(self.stage)
        if holder is None:
            self.reporter.note(f"stage '{self.stage}' is not locked")
            return True
        if not confirm(holder):
            return False
        self.st.store.release(self.stage)
        self.reporter.note(f"broke the lock of {holder.describe()}")
        return True

    def _recover(self) -> None:
        """A run that never finished (kill -9) left `running/<stage>`: say what state its stacks are in."""
        build_id = self.st.history.running(self.stage)
        if build_id is None:
            return
        if build_id not in self.st.history.ids(self.stage):  # killed between the marker and its record
            self.reporter.note(f"build {build_id} was interrupted before it touched a stack")
            self.st.history.clear_running(self.stage)
            return
        record = self.st.history.load(self.stage, build_id)
        states = []
        for stack in sorted(record.stacks):
            health, status = self.st.provider.health(stack)
            states.append(f"{stack}: {status or 'absent'} ({health.value})")
        self.reporter.note(f"build {record.id} was interrupted; its stacks now: {'; '.join(states) or 'none'}. "
                           "This run picks up from there")
        if record.result is BuildResult.PENDING:
            self.st.history.save(record.finished(BuildResult.FAILED, "interrupted before it finished",
                                                 record.outcomes))
        self.st.history.clear_running(self.stage)

    # -- ship ---------------------------------------------------------------------------------
    def ship(self, release: Release, *, copy_from: PipelineStore | None = None) -> RunResult:
        self.st.store.require_bootstrapped()
        release = self.with_parameters(release)
        holder = self.st.store.lock_holder(self.stage)
        if holder is not None:
            raise LockHeld(self.stage, holder)
        pointer = self.st.history.live(self.stage)
        if self._identical(release, pointer):
            plan = self.plan(release)
            if not plan.has_work:
                return RunResult(self.stage, release.kind, RunState.NOTHING, pointer.build or "", plan=plan,
                                 outcomes=tuple(StackOutcome(p.step.stack, p.step.phase, Outcome.SKIPPED,
                                                             reason=p.decision.value) for p in plan.stacks))
        self._lock()
        try:
            return self._ship_locked(release, copy_from)
        finally:
            self.st.store.release(self.stage)

    def _identical(self, release: Release, pointer: LivePointer) -> bool:
        """Every stack's fingerprint equals the live one and the live build shipped exactly these stacks."""
        wanted = {name: e.fingerprint for name, e in release.stacks.items()}
        if pointer.fingerprints != wanted or pointer.build is None:
            return False
        live = self.st.history.load(self.stage, pointer.build)
        return {name: e.fingerprint for name, e in live.stacks.items()} == wanted

    def _ship_locked(self, release: Release, copy_from: PipelineStore | None) -> RunResult:
        self._recover()
        self._upload(release, copy_from)
        plan = self.plan(release)
        if not plan.has_work and self._identical(release, self.st.history.live(self.stage)):
            return RunResult(self.stage, release.kind, RunState.NOTHING, self.st.history.live(self.stage).build or "",
                             plan=plan)
        if plan.has_work and not self.confirm(plan):
            discard(self.st.provider, plan.stacks)
            return RunResult(self.stage, release.kind, RunState.CANCELLED, plan=plan)
        return self._run(release.deploy_record(), plan)

    def _upload(self, release: Release, copy_from: PipelineStore | None) -> None:
        if copy_from is not None:
            copied = self.st.store.copy_missing_from(copy_from, list(release.keys))
            self.reporter.note(f"copied {len(copied)} artifact(s) from {copy_from.bucket}")
        elif release.artifacts:
            self.st.store.upload_missing(release.artifacts)
        missing = [key for key in release.keys if not self.st.store.has(key)]
        if missing:
            raise UserError(f"artifact(s) {', '.join(missing)} are not in {self.st.store.bucket}; "
                            "rebuild with `stagewise deploy` instead")

    def _run(self, record: DeployRecord, plan: StagePlan, *, removing: bool = False) -> RunResult:
        history = self.st.history
        # The marker first: a run killed at any point after it is found by the next one (`_recover`),
        # even before its PENDING record is written.
        history.mark_running(self.stage, record.id)
        history.save(record)
        try:
            outcomes = execute(self.st.provider, plan, self.reporter)
        except BaseException as exc:  # Ctrl-C, or a bug: the record says so, never PENDING
            why = "interrupted by Ctrl-C" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
            history.save(record.finished(BuildResult.FAILED, why, {}))
            history.clear_running(self.stage)
            raise
        failed = [o for o in outcomes if o.outcome in (Outcome.FAILED, Outcome.NOT_RUN)]
        result = BuildResult.FAILED if failed else BuildResult.SUCCEEDED
        message = "; ".join(f"{o.stack}: {o.reason}" for o in failed if o.outcome is Outcome.FAILED)
        summary = {o.stack: {"outcome": o.outcome.value, "seconds": o.seconds, "reason": o.reason} for o in outcomes}
        history.save(record.finished(result, message, summary))
        history.clear_running(self.stage)
        self._move_pointer(record, outcomes, succeeded=not failed, removing=removing)
        state = RunState.FAILED if failed else RunState.SUCCEEDED
        return RunResult(self.stage, record.kind, state, record.id, tuple(outcomes), plan)

    def _move_pointer(self, record: DeployRecord, outcomes: list[StackOutcome], *, succeeded: bool,
                      removing: bool) -> None:
        pointer = self.st.history.live(self.stage)
        fingerprints = dict(pointer.fingerprints)
        for outcome in outcomes:
            if outcome.outcome is Outcome.REMOVED or (outcome.stack not in record.stacks
                                                      and outcome.outcome is Outcome.SKIPPED):
                fingerprints.pop(outcome.stack, None)
            elif outcome.outcome in (Outcome.DEPLOYED, Outcome.SKIPPED):
                fingerprints[outcome.stack] = record.stacks[outcome.stack].fingerprint
        if removing and succeeded:
            self.st.history.drop_live(self.stage)
            return
        build = record.id if succeeded else pointer.build
        self.st.history.set_live(self.stage, LivePointer(build, fingerprints))

    # -- remove -------------------------------------------------------------------------------
    def _existing_templates(self, pointer: LivePointer) -> dict[str, dict[str, Any]]:
        """Live stacks, plus any stack a record shipped that still exists (e.g. a failed first create)."""
        found = self.live_templates(pointer)
        checked = set(found)
        for build_id in reversed(self.st.history.ids(self.stage)):
            for name, entry in self.st.history.load(self.stage, build_id).stacks.items():
                if name in checked:
                    continue
                checked.add(name)
                if self.st.provider.health(name)[0] is not StackHealth.ABSENT:
                    found[name] = entry.template
        return found

    def _forget_domain(self) -> None:
        """The removed stage's ACM validation records, which CloudFormation leaves in the zone."""
        from stagewise.domains import remove_validation_records

        if self.st.stage.domain:
            for name in remove_validation_records(self.st.target.client("route53"), self.st.target.client("acm"),
                                                  self.st.stage.domain):
                self.reporter.note(f"deleted {name}, ACM's validation record of the removed certificate")

    def remove(self) -> RunResult:
        self.st.store.require_bootstrapped()
        self._lock()
        try:
            self._recover()
            pointer = self.st.history.live(self.stage)
            live = self._existing_templates(pointer)
            if not live:
                raise UserError(f"stage '{self.stage}' has nothing deployed in account '{self.st.stage.account}' "
                                f"({self.st.target.account_id}); see `stagewise stages`")
            plan = make_plan(self.st.provider, stage=self.stage, new={}, live=pointer, live_templates=live)
            if not self.confirm(plan):
                return RunResult(self.stage, Kind.REMOVE, RunState.CANCELLED, plan=plan)
            retained = retained_resources(self.st.provider, live)
            if self.st.stage.protect:  # the command made the user confirm (--force and the stage's name)
                for name in live:
                    self.st.provider.unprotect(name)
            record = DeployRecord(build=BuildRecord.create(stage=self.stage, git=GitState(None, False),
                                                           functions=[], templates={}),
                                  kind=Kind.REMOVE, stacks={})
            result = self._run(record, plan, removing=True)
            if result.state is RunState.SUCCEEDED:
                self._forget_domain()
            return RunResult(self.stage, Kind.REMOVE, result.state, record.id, result.outcomes, plan,
                             tuple(retained))
        finally:
            self.st.store.release(self.stage)
