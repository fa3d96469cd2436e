"""Runs a deploy: walks the plan's resources in dependency order, then cleans up, or rolls back.

Data flow: `Deployment(...).run()` re-resolves each resource's properties with the values
known at that moment (so dependents of a replaced resource are repointed to the new one),
decides again with the same `decide()` the plan used, calls the resource type and records the
new ResourceState; the stack state is saved before every create (with its intent) and at the end. After every resource is
done, outputs and exports are checked and recorded, then removed resources and the old copies
of replaced ones are deleted (reverse dependency order; `Retain` and `RetainExceptOnCreate` keep
a removed resource). On a failure every operation journaled so far is undone in reverse (best
effort; a resource this deploy added under plain `Retain` is kept, as CloudFormation keeps it)
and the stack is left in ROLLBACK_COMPLETE (new stack) or UPDATE_ROLLBACK_COMPLETE with its
previous resources.

Crash safety of creates: right before a create's first AWS call, its intent (`PendingCreate`:
logical id, type, physical name, a name token) is saved in the stack state (`Intent`). A
generated name is derived from the token (`IntentContext`), so the name is known before the call.
If the process dies between the call and the next save, the next deploy (or delete) deletes the
leftover by that name (`clear_leftover`) before creating it again, with the same token.
"""

from __future__ import annotations

import copy
import enum
import hashlib
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stagewise.provisioner.errors import DeployError, ExportError, ProvisionerError
from stagewise.provisioner.events import ResourceEvent, ResourceStatus
from stagewise.provisioner.exports import ExportRegistry
from stagewise.provisioner.graph import dependency_order
from stagewise.provisioner.intrinsics import resolve
from stagewise.provisioner.plan import Action, decide
from stagewise.provisioner.resources import ResourceContext, ResourceType, resource_class
from stagewise.provisioner.scope import StackScope
from stagewise.provisioner.state import (
    PendingCreate,
    ResourceState,
    StackState,
    StackStatus,
    kept_by_rollback,
    kept_on_delete,
)
from stagewise.provisioner.store import StateStore
from stagewise.provisioner.template import ResourceSpec

NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NotFoundException",
        "NoSuchBucket",
        "NotFound",
        "AWS.SimpleQueueService.NonExistentQueue",
        "ParameterNotFound",
        "QueueDoesNotExist",
    }
)
FAILURES = (ClientError, BotoCoreError, ProvisionerError, KeyError, ValueError, TypeError)


class Step(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"


@dataclass
class JournalEntry:
    step: Step
    new: ResourceState
    old: ResourceState | None  # the state before an update


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def is_not_found(exc: Exception) -> bool:
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in NOT_FOUND_CODES


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip().rstrip(".")
    text = str(exc) if isinstance(exc, ProvisionerError) else f"{type(exc).__name__}: {exc}"
    return text.rstrip(".")


_ALPHABET = string.ascii_uppercase + string.digits


class Intent:
    """Saves the stack state with a create's PendingCreate once, just before the create's first AWS call."""

    def __init__(self, pending: PendingCreate, *, save: Callable[[], None], client: Callable[[str], Any]) -> None:
        self.pending = pending
        self._save = save
        self._client = client
        self.saved = False

    def client(self, service: str) -> Any:
        return _SaveFirst(self._client(service), self)

    def before_call(self) -> None:
        if not self.saved:
            self.saved = True
            self._save()

    def named(self, name: str) -> None:
        if self.pending.name is None:
            self.pending.name = name
            if self.saved:
                self._save()


class _SaveFirst:
    """A boto3 client whose first method call (of the create it serves) saves the intent first."""

    def __init__(self, client: Any, intent: Intent) -> None:
        self._client = client
        self._intent = intent

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self._intent.before_call()
            return attr(*args, **kwargs)

        return call


@dataclass(frozen=True)
class IntentContext(ResourceContext):
    """A ResourceContext whose generated names come from the intent's token, and are recorded in it."""

    intent: Intent | None = field(default=None, compare=False)

    def generated_name(self, *, max_length: int = 128, lowercase: bool = False) -> str:
        token = self.intent.pending.token if self.intent else secrets.token_hex(8)
        digest = hashlib.sha256(f"{token}/{self.stack_name}/{self.logical_id}".encode()).digest()
        suffix = "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:12])
        head = f"{self.stack_name}-{self.logical_id}"[: max_length - len(suffix) - 1]
        name = f"{head}-{suffix}".lower() if lowercase else f"{head}-{suffix}"
        if self.intent:
            self.intent.named(name)
        return name


class Deployment:
    """One deploy of one stack; create it per deploy (it holds that deploy's journal)."""

    def __init__(
        self,
        *,
        scope: StackScope,
        old: StackState | None,
        store: StateStore,
        emit: Callable[[ResourceEvent], None],
    ) -> None:
        self.scope = scope
        self.old = old
        self.store = store
        self.emit = emit
        self.journal: list[JournalEntry] = []
        self.leftovers: list[ResourceState] = []  # old copies of replaced resources
        creating = old is None or not old.resources
        self.state = StackState(
            name=scope.stack_name,
            status=StackStatus.CREATE_IN_PROGRESS if creating else StackStatus.UPDATE_IN_PROGRESS,
            template=scope.template.body,
            parameters={},
            resources=dict(old.resources) if old else {},
            outputs=dict(old.outputs) if old else {},
            exports=dict(old.exports) if old else {},
            imports=list(old.imports) if old else [],
            stack_id=scope.stack_id,
            updated_at=now(),
            pending=dict(old.pending) if old else {},
        )
        self.creating = creating
        self.tokens: dict[str, str] = {}  # logical id -> name token of an interrupted create, reused

    def run(self, parameters: dict[str, str]) -> StackState:
        self.state.parameters = parameters
        self.scope.pending = set()
        self.scope.imports = set()
        self._clear_leftovers()
        self._save()
        try:
            for lid in self.scope.template.order:
                if self.scope.active(lid):
                    self._apply(self.scope.template.resources[lid])
            self._record_outputs()
        except FAILURES as exc:
            self._rollback(exc)
        self._cleanup()
        self.state.status = StackStatus.CREATE_COMPLETE if self.creating else StackStatus.UPDATE_COMPLETE
        self.state.reason = ""
        self._save()
        return self.state

    # -- one resource -------------------------------------------------------------------

    def _apply(self, spec: ResourceSpec) -> None:
        self.scope.resources = self.state.resources
        props = resolve(spec.properties, self.scope.scope())
        current = self.state.resources.get(spec.logical_id)
        action, _, _ = decide(spec.type, spec.handler, current, props, spec.metadata)
        if action is Action.UNCHANGED:
            if current is not None and sorted(current.depends_on) != self._depends(spec):
                current.depends_on = self._depends(spec)
            return
        handler = spec.handler(self.scope.context(spec.logical_id))
        if action is Action.MODIFY and current is not None and current.properties == props:
            self._record(spec, props, current.physical_id, current.attributes, old=current)
            return
        if action is Action.MODIFY and current is not None:
            self._event(spec, ResourceStatus.UPDATE_IN_PROGRESS, current.physical_id)
            result = self._call(spec, ResourceStatus.UPDATE_FAILED, lambda: handler.update(current, props))
            self._record(spec, props, result.physical_id, result.attributes, old=current)
            self._event(spec, ResourceStatus.UPDATE_COMPLETE, result.physical_id)
            return
        if current is not None:  # REPLACE: create the new one; the old one goes in cleanup
            self._event(
                spec,
                ResourceStatus.UPDATE_IN_PROGRESS,
                current.physical_id,
                "Requested update requires the creation of a new physical resource; hence creating one.",
            )
            if spec.update_replace_policy != "Retain":
                self.leftovers.append(current)
        self._event(spec, ResourceStatus.CREATE_IN_PROGRESS)
        creator = spec.handler(self._intent_context(spec, props))
        result = self._call(spec, ResourceStatus.CREATE_FAILED, lambda: creator.create(props))
        self._record(spec, props, result.physical_id, result.attributes, old=None, replaced=current)
        self._event(spec, ResourceStatus.CREATE_COMPLETE, result.physical_id)

    def _intent_context(self, spec: ResourceSpec, props: dict[str, Any]) -> IntentContext:
        """The context of one create: its intent is saved before its first AWS call (module doc)."""
        name_property = spec.handler.name_property
        custom = props.get(name_property) if name_property else None
        token = self.tokens.pop(spec.logical_id, None) or secrets.token_hex(8)
        pending = PendingCreate(spec.logical_id, spec.type, token, custom if isinstance(custom, str) else None, props,
                                retained=kept_on_delete(spec.deletion_policy), custom_name=isinstance(custom, str),
                                recorded_at=time.time())
        self.state.pending[spec.logical_id] = pending
        intent = Intent(pending, save=self._checkpoint, client=self.scope.client)
        base = self.scope.context(spec.logical_id)
        values = {f.name: getattr(base, f.name) for f in fields(base)}
        return IntentContext(**{**values, "client": intent.client}, intent=intent)

    def _clear_leftovers(self) -> None:
        """Delete what creates interrupted by a dead process left behind; their retries reuse the names."""
        for pending in list(self.state.pending.values()):
            clear_leftover(pending, stack_name=self.state.name, context=self.scope.context, emit=self.emit)
            self.tokens[pending.logical_id] = pending.token
        self.state.pending = {}

    def _call(self, spec: ResourceSpec, failed: ResourceStatus, operation: Callable[[], Any]) -> Any:
        try:
            return operation()
        except FAILURES as exc:
            reason = reason_of(exc)
            self._event(spec, failed, reason=reason)
            raise DeployError(
                f"{spec.logical_id} ({spec.type}) failed: {reason}", logical_id=spec.logical_id, reason=reason
            ) from exc

    def _depends(self, spec: ResourceSpec) -> list[str]:
        edges = self.scope.template.edges.get(spec.logical_id, set())
        return sorted(d for d in edges if self.scope.active(d))

    def _record(
        self,
        spec: ResourceSpec,
        props: dict[str, Any],
        physical_id: str,
        attributes: dict[str, Any],
        *,
        old: ResourceState | None,
        replaced: ResourceState | None = None,
    ) -> None:
        new = ResourceState(
            logical_id=spec.logical_id,
            type=spec.type,
            physical_id=physical_id,
            properties=props,
            attributes=attributes,
            metadata=spec.metadata,
            depends_on=self._depends(spec),
            deletion_policy=spec.deletion_policy,
        )
        self.state.resources[spec.logical_id] = new
        self.state.pending.pop(spec.logical_id, None)
        self.journal.append(JournalEntry(Step.UPDATED if old else Step.CREATED, new, old or replaced))
        # Saved with the next create's intent (before its first call) or at the end: if the process
        # dies first, this create's saved intent finds what it made; an update is simply redone.

    def _record_outputs(self) -> None:
        self.scope.resources = self.state.resources
        outputs, exports = self.scope.resolve_outputs()
        registry: ExportRegistry = self.scope.registry
        registry.check_new_exports(self.state.name, exports)
        registry.check_changes(self.state.name, self.old.exports if self.old else {}, exports)
        self.state.outputs, self.state.exports = outputs, exports
        self.state.imports = sorted(self.scope.imports)

    # -- cleanup and rollback -----------------------------------------------------------

    def _cleanup(self) -> None:
        template = self.scope.template
        gone = [
            rs
            for lid, rs in self.state.resources.items()
            if lid not in template.resources or not self.scope.active(lid)
        ]
        doomed = {id(rs): rs for rs in [*gone, *self.leftovers]}
        for rs in gone:
            del self.state.resources[rs.logical_id]
        for rs in reverse_order(list(doomed.values())):
            if not delete_resource(
                rs, stack_name=self.state.name, context=self.scope.context, emit=self.emit
            ):
                self.state.resources.setdefault(rs.logical_id, rs)

    def _rollback(self, exc: Exception) -> None:
        failures: list[str] = []
        for entry in reversed(self.journal):
            if _kept_by_rollback(entry):
                self._skipped(entry.new, "DeletionPolicy Retain: kept by the rollback of the deploy that created it")
                continue
            try:
                _undo(entry, self.scope)
            except FAILURES as undo_exc:
                failures.append(f"{entry.new.logical_id}: {reason_of(undo_exc)}")
        self.state.resources = dict(self.old.resources) if self.old else {}
        self.state.outputs = dict(self.old.outputs) if self.old else {}
        self.state.exports = dict(self.old.exports) if self.old else {}
        self.state.imports = list(self.old.imports) if self.old else []
        self.state.pending = {}  # the failed create raised: it answered, it did not die mid-call
        self.state.template = self.old.template if self.old and not self.creating else self.state.template
        self.state.status = (
            StackStatus.ROLLBACK_COMPLETE if self.creating else StackStatus.UPDATE_ROLLBACK_COMPLETE
        )
        self.state.reason = reason_of(exc)
        self.state.updated_at = now()
        self._save()
        note = f"; rollback could not undo: {'; '.join(failures)}" if failures else ""
        message = f"Stack {self.state.name}: {reason_of(exc)}. Rolled back ({self.state.status}){note}"
        if isinstance(exc, ExportError):
            raise ExportError(message) from exc
        raise DeployError(message, logical_id=getattr(exc, "logical_id", ""), reason=reason_of(exc)) from exc

    def _event(
        self, spec: ResourceSpec, status: ResourceStatus, physical_id: str = "", reason: str = ""
    ) -> None:
        self.emit(
            ResourceEvent(
                stack_name=self.state.name,
                logical_id=spec.logical_id,
                resource_type=spec.type,
                status=status,
                physical_id=physical_id,
                reason=reason,
            )
        )

    def _skipped(self, rs: ResourceState, reason: str) -> None:
        self.emit(ResourceEvent(self.state.name, rs.logical_id, rs.type, ResourceStatus.DELETE_SKIPPED,
                                rs.physical_id, reason))

    def _save(self) -> None:
        """A settled point (start, end, rollback): written to the cloud."""
        self.state.updated_at = now()
        self.store.save(self.state)

    def _checkpoint(self) -> None:
        """Progress within the deploy (an intent, the results before it): written durably, cheaply."""
        self.state.updated_at = now()
        self.store.checkpoint(self.state)


CLOCK_SKEW_S = 0.005  # the local cloud runs on this machine: its clock is ours (moto keeps microseconds)


def _handler(rs: ResourceState, context: Callable[[str], ResourceContext]) -> ResourceType:
    cls = resource_class(rs.type)
    if cls is None:
        raise DeployError(
            f"{rs.logical_id}: resource type {rs.type} is not supported", logical_id=rs.logical_id
        )
    return cls(context(rs.logical_id))


def _kept_by_rollback(entry: JournalEntry) -> bool:
    """An added resource (not the new copy of a replaced one) whose policy survives a rollback."""
    return entry.step is Step.CREATED and entry.old is None and kept_by_rollback(entry.new.deletion_policy)


def _undo(entry: JournalEntry, scope: StackScope) -> None:
    handler = _handler(entry.new, scope.context)
    if entry.step is Step.CREATED:
        handler.delete(entry.new)
    elif entry.old is not None and entry.old.properties != entry.new.properties:
        handler.update(entry.new, copy.deepcopy(entry.old.properties))


def reverse_order(resources: list[ResourceState]) -> list[ResourceState]:
    by_key = {f"{rs.logical_id}#{i}": rs for i, rs in enumerate(resources)}
    ids = {rs.logical_id for rs in resources}
    edges = {
        key: {f for f in by_key if by_key[f].logical_id in set(rs.depends_on) & ids}
        for key, rs in by_key.items()
    }
    return [by_key[key] for key in reversed(dependency_order(edges))]


def delete_resource(
    rs: ResourceState,
    *,
    stack_name: str,
    context: Callable[[str], ResourceContext],
    emit: Callable[[ResourceEvent], None],
) -> bool:
    """Delete one resource (or skip it under Retain / RetainExceptOnCreate); True when it is gone or kept."""

    def event(status: ResourceStatus, reason: str = "") -> None:
        emit(ResourceEvent(stack_name, rs.logical_id, rs.type, status, rs.physical_id, reason))

    if kept_on_delete(rs.deletion_policy):
        event(ResourceStatus.DELETE_SKIPPED, f"DeletionPolicy {rs.deletion_policy}: left in place")
        return True
    event(ResourceStatus.DELETE_IN_PROGRESS)
    try:
        _handler(rs, context).delete(rs)
    except FAILURES as exc:
        if not is_not_found(exc):
            event(ResourceStatus.DELETE_FAILED, reason_of(exc))
            return False
    event(ResourceStatus.DELETE_COMPLETE)
    return True


def _made_by(pending: PendingCreate, context: Callable[[str], ResourceContext]) -> bool:
    """True when the resource now holding the pending name was created after the intent was saved."""
    cls = resource_class(pending.type)
    created = cls(context(pending.logical_id)).created_at(pending.name) if cls and pending.name else None
    return created is not None and created >= pending.recorded_at - CLOCK_SKEW_S


def clear_leftover(
    pending: PendingCreate,
    *,
    stack_name: str,
    context: Callable[[str], ResourceContext],
    emit: Callable[[ResourceEvent], None],
) -> None:
    """Delete what an interrupted create may have made, found by its recorded name (best effort).

    Without a name (types whose ids the cloud generates) there is nothing to look it up by: the
    event says so. A failed deletion is reported; the create that follows then fails loudly if
    the name is still taken.
    """
    if pending.name is None:
        emit(ResourceEvent(stack_name, pending.logical_id, pending.type, ResourceStatus.DELETE_SKIPPED,
                           reason="an interrupted create left no name to find it by; it may be orphaned"))
        return
    if pending.retained and pending.custom_name and not _made_by(pending, context):
        # The name may belong to a resource kept on purpose (a retained table from an earlier stack),
        # and the interrupted create may never have made anything: never delete data to tidy up.
        emit(ResourceEvent(stack_name, pending.logical_id, pending.type, ResourceStatus.DELETE_SKIPPED,
                           reason=f"retained resource {pending.name} is never deleted after an interrupted create "
                                  "unless it was created after the create began; if the retry says it exists, "
                                  "delete or rename it by hand"))
        return
    cls = resource_class(pending.type)
    try:
        physical_id = cls(context(pending.logical_id)).physical_id_for(pending.name) if cls else pending.name
    except FAILURES as exc:
        if is_not_found(exc):
            return  # the interrupted create made nothing
        raise
    leftover = ResourceState(pending.logical_id, pending.type, physical_id, dict(pending.properties))
    delete_resource(leftover, stack_name=stack_name, context=context, emit=emit)
