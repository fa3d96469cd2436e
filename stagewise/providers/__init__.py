"""The deploy provider: CloudFormation's API (change sets), on AWS and on the local cloud alike.

The pipeline receives a Provider through `provider_for(target)`; where the target is changes only
how often it polls.
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
