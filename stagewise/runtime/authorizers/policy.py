"""IAM policy statements as API Gateway evaluates them for `execute-api:Invoke` on a method ARN.

Data flow: a policy document (a Lambda authorizer's `policyDocument`, or a role's policy for the
IAM plug-in) → `parse_statements()` (a malformed document raises `MalformedPolicy`) →
`evaluate(statements, action, resource)` → ALLOW, DENY (an explicit Deny matched; it always wins)
or IMPLICIT_DENY (no Allow matched). `Action` and `Resource` (and `NotAction` / `NotResource`)
take `*` (any run of characters, `/` and `:` included) and `?` (one character); actions compare
case-insensitively, resources case-sensitively. A statement with a `Condition` is not evaluated
locally: it never allows, and a Deny with a condition denies (fail closed).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class MalformedPolicy(ValueError):
    pass


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"  # an explicit Deny matched
    IMPLICIT_DENY = "implicit_deny"  # nothing allowed it


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" | "Deny"
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_actions: bool = False  # the list is NotAction
    not_resources: bool = False  # the list is NotResource
    conditional: bool = False

    def applies(self, action: str, resource: str) -> bool:
        action_hit = any(_matches(p, action, fold=True) for p in self.actions)
        resource_hit = any(_matches(p, resource, fold=False) for p in self.resources)
        return action_hit != self.not_actions and resource_hit != self.not_resources


def parse_statements(document: Any) -> tuple[Statement, ...]:
    """The statements of a policy document; `MalformedPolicy` says what is wrong."""
    if not isinstance(document, dict):
        raise MalformedPolicy(f"policyDocument must be an object, got {type(document).__name__}")
    raw = document.get("Statement")
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise MalformedPolicy("policyDocument.Statement must be a non-empty list of statements")
    return tuple(_statement(item, index) for index, item in enumerate(raw))


def evaluate(statements: Iterable[Statement], action: str, resource: str) -> Decision:
    allowed = False
    for statement in statements:
        if not statement.applies(action, resource):
            continue
        if statement.effect == "Deny":
            return Decision.DENY
        if not statement.conditional:
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def _statement(item: Any, index: int) -> Statement:
    if not isinstance(item, dict):
        raise MalformedPolicy(f"Statement[{index}] is not an object")
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(f"Statement[{index}].Effect must be Allow or Deny, got {effect!r}")
    actions, not_actions = _either(item, "Action", "NotAction", index)
    resources, not_resources = _either(item, "Resource", "NotResource", index)
    return Statement(effect, actions, resources, not_actions, not_resources, conditional=bool(item.get("Condition")))


def _either(item: dict[str, Any], key: str, negated: str, index: int) -> tuple[tuple[str, ...], bool]:
    if (key in item) == (negated in item):
        raise MalformedPolicy(f"Statement[{index}] needs exactly one of {key} / {negated}")
    name = key if key in item else negated
    value = item[name]
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
        raise MalformedPolicy(f"Statement[{index}].{name} must be a string or a list of strings")
    return tuple(values), name == negated


@functools.lru_cache(maxsize=1024)
def _pattern(pattern: str, fold: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if fold else 0))


def _matches(pattern: str, value: str, *, fold: bool) -> bool:
    return _pattern(pattern, fold).fullmatch(value) is not None
