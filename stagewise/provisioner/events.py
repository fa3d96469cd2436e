"""Resource events: one per resource status change, handed to the `on_event` callback.

The engine emits them as it works (IN_PROGRESS, then COMPLETE/FAILED); a CLI renders them live.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime


class ResourceStatus(enum.StrEnum):
    CREATE_IN_PROGRESS = "CREATE_IN_PROGRESS"
    CREATE_COMPLETE = "CREATE_COMPLETE"
    CREATE_FAILED = "CREATE_FAILED"
    UPDATE_IN_PROGRESS = "UPDATE_IN_PROGRESS"
    UPDATE_COMPLETE = "UPDATE_COMPLETE"
    UPDATE_FAILED = "UPDATE_FAILED"
    DELETE_IN_PROGRESS = "DELETE_IN_PROGRESS"
    DELETE_COMPLETE = "DELETE_COMPLETE"
    DELETE_FAILED = "DELETE_FAILED"
    DELETE_SKIPPED = "DELETE_SKIPPED"


@dataclass(frozen=True)
class ResourceEvent:
    stack_name: str
    logical_id: str
    resource_type: str
    status: ResourceStatus
    physical_id: str = ""
    reason: str = ""
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))
