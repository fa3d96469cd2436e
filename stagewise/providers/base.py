"""The Provider interface: plan a stack change, apply it with progress events, read, delete.

One implementation ships (providers.cloudformation: CloudFormation's API, on AWS or on the
local cloud); tests may write a fake against this interface.

Data flow: the deployer hands a provider a stack name, a template (plain CFN JSON), its
parameters and its options (tags, protection); `plan` answers a `StackPlan` — data only: one frozen `ResourceChange` per resource
(ADD / MODIFY / REPLACE / REMOVE, with the property that forces a replacement). `diff` shows
that plan; `deploy` passes the very same object to `apply`, which streams `StackEvent`s to a
callback and returns an `ApplyResult`. `health` and `exports` are read-only calls, so change
detection can decide to skip a stack without a single write.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stagewise.errors import UserError


class Action(enum.StrEnum):
    ADD = "add"
    MODIFY = "modify"
    REPLACE = "replace"
    REMOVE = "remove"


@dataclass(frozen=True)
class ResourceChange:
    action: Action
    logical_id: str
    resource_type: str
    replaced_by: str = ""  # the property whose change forces a replacement


class StackHealth(enum.StrEnum):
    """What a stack's current status means for the next deploy."""

    ABSENT = "absent"  # no such stack
    READY = "ready"  # a *_COMPLETE state a change can start from
    BUSY = "busy"  # an operation is in progress
    FAILED_CREATE = "failed-create"  # ROLLBACK_COMPLETE: must be deleted before it can be created
    STUCK = "stuck"  # UPDATE_ROLLBACK_FAILED / DELETE_FAILED: needs a human


@dataclass(frozen=True)
class StackPlan:
    """The change one stack would go through. `handle` is provider data (a change set id)."""

    stack_name: str
    changes: tuple[ResourceChange, ...]
    creating: bool
    handle: Any = None
    recreate: bool = False  # a failed create is deleted first

    @property
    def empty(self) -> bool:
        return not self.changes and not self.creating


@dataclass(frozen=True)
class StackEvent:
    stack_name: str
    logical_id: str
    resource_type: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class ApplyResult:
    stack_name: str
    ok: bool
    status: str
    reason: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


EventSink = Callable[[StackEvent], None]


class ProviderError(UserError):
    """A provider call failed in a way the user must act on; the message says how."""


class PlanError(ProviderError):
    """A stack's plan could not be made (invalid template, a missing import); nothing was touched.

    `blocked` marks a plan that fails only because of another stack's exports (an import of an
    export that does not exist yet, an export still imported elsewhere): the planner retries it
    once the stacks ordered before it have deployed."""

    def __init__(self, message: str, *, blocked: bool = False) -> None:
        super().__init__(message)
        self.blocked = blocked


EXPORT_BLOCKS = ("No export named", "as it is in use by")


def export_blocked(message: str) -> bool:
    """True when CloudFormation's (or the provisioner's) message is about another stack's exports."""
    return any(text in message for text in EXPORT_BLOCKS)


class Provider(ABC):
    """One deploy target (providers.cloudformation.CloudFormationProvider)."""

    kind: str = "?"

    @abstractmethod
    def health(self, stack_name: str) -> tuple[StackHealth, str]:
        """(health, raw status) of a stack; read-only."""

    @abstractmethod
    def plan(self, stack_name: str, template: dict[str, Any], parameters: dict[str, str],
             options: Any = None) -> StackPlan:
        """The change set for this template; raises PlanError naming the stack and the cause.

        `options` (a providers.cloudformation.StackOptions) carries the stack's tags and protection."""

    @abstractmethod
    def apply(self, plan: StackPlan, on_event: EventSink) -> ApplyResult:
        """Execute a plan; on failure the stack is rolled back and ok=False says why."""

    @abstractmethod
    def discard(self, plan: StackPlan) -> None:
        """Drop a plan that will not be applied (diff only)."""

    @abstractmethod
    def delete(self, stack_name: str, on_event: EventSink) -> ApplyResult:
        """Delete a stack (retained resources stay)."""

    @abstractmethod
    def unprotect(self, stack_name: str) -> None:
        """Turn a stack's termination protection off (a removal the user confirmed)."""

    @abstractmethod
    def outputs(self, stack_name: str) -> dict[str, str]:
        """Output name → value of a deployed stack ({} when absent)."""

    @abstractmethod
    def physical_ids(self, stack_name: str) -> dict[str, str]:
        """Logical id → physical id of a deployed stack's resources ({} when absent)."""
