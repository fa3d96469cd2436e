"""Deploy providers: one interface (`Provider`), two implementations (aws, local).

The pipeline receives a Provider through `provider_for(target)` and never asks which one it has.
"""

from __future__ import annotations

from stagewise.providers.base import (
    Action,
    ApplyResult,
    PlanError,
    Provider,
    ProviderError,
    ResourceChange,
    StackEvent,
    StackHealth,
    StackPlan,
)

__all__ = [
    "Action",
    "ApplyResult",
    "PlanError",
    "Provider",
    "ProviderError",
    "ResourceChange",
    "StackEvent",
    "StackHealth",
    "StackPlan",
]
