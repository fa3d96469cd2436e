"""Who is calling: the Cognito user id API Gateway verified and put in a REST (v1) proxy event.

Data flow: API Gateway's COGNITO_USER_POOLS authorizer checks the token and copies its claims to
`event.requestContext.authorizer.claims`; `caller_id(event)` reads `sub` from there. Handlers
never decode tokens themselves; a missing `sub` means the route was deployed without the
authorizer, which handlers answer with 401 (defence in depth).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def claims(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The verified token claims of the request ({} when there are none)."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    found = authorizer.get("claims") or {}
    return found if isinstance(found, Mapping) else {}


def caller_id(event: Mapping[str, Any]) -> str | None:
    """The caller's Cognito `sub`, or None when the request carries no verified claims."""
    sub = claims(event).get("sub")
    return sub if isinstance(sub, str) and sub else None
