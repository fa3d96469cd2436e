"""Evaluating identity-based IAM policies the way IAM does for one request.

Data flow: the caller's policy documents (a role's inline and attached policies, read from the
local cloud's IAM by `role_policies`) + an action (`execute-api:Invoke`, `s3:GetObject`) + a
resource ARN + the request's policy variables (`${cognito-identity.amazonaws.com:sub}` …) →
`evaluate` → ALLOW, DENY (an explicit Deny matched, which always wins) or IMPLICIT_DENY (no Allow
matched). Actions match case-insensitively, resources case-sensitively, both with `*` and `?`;
`NotAction` / `NotResource` invert a statement's match. A Condition with an operator this module
does not know makes an Allow not apply and a Deny apply: unknown means refused, never allowed.
"""

from __future__ import annotations

import enum
import fnmatch
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote


class Decision(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"  # an explicit Deny
    IMPLICIT_DENY = "implicit-deny"


_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_OPERATORS = {
    "StringEquals": lambda value, wanted: value == wanted,
    "StringNotEquals": lambda value, wanted: value != wanted,
    "StringLike": lambda value, wanted: fnmatch.fnmatchcase(value, wanted),
    "StringNotLike": lambda value, wanted: not fnmatch.fnmatchcase(value, wanted),
    "ArnEquals": lambda value, wanted: value == wanted,
    "ArnLike": lambda value, wanted: fnmatch.fnmatchcase(value, wanted),
}


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _substitute(pattern: str, variables: Mapping[str, str]) -> str:
    """Policy variables in a Resource or Condition value; an unknown one matches nothing (AWS)."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), "\x00unresolved\x00"), pattern)


def _any_match(patterns: Iterable[str], value: str, *, case: bool, variables: Mapping[str, str]) -> bool:
    for pattern in patterns:
        pattern = _substitute(pattern, variables)
        if case and fnmatch.fnmatchcase(value, pattern):
            return True
        if not case and fnmatch.fnmatchcase(value.lower(), pattern.lower()):
            return True
    return False


def _condition_holds(condition: Mapping[str, Any], context: Mapping[str, str],
                     variables: Mapping[str, str]) -> bool | None:
    """True / False, or None for an operator this evaluator does not know."""
    for operator, tests in condition.items():
        check = _OPERATORS.get(operator.removeprefix("ForAnyValue:").removeprefix("ForAllValues:"))
        if check is None:
            return None
        for key, wanted in (tests or {}).items():
            value = context.get(key)
            if value is None or not any(check(value, _substitute(w, variables)) for w in _listed(wanted)):
                return False
    return True


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, str],
             variables: Mapping[str, str]) -> bool:
    if "NotAction" in statement:
        action_ok = not _any_match(_listed(statement["NotAction"]), action, case=False, variables={})
    else:
        action_ok = _any_match(_listed(statement.get("Action")), action, case=False, variables={})
    if "NotResource" in statement:
        resource_ok = not _any_match(_listed(statement["NotResource"]), resource, case=True, variables=variables)
    else:
        resource_ok = _any_match(_listed(statement.get("Resource")), resource, case=True, variables=variables)
    if not (action_ok and resource_ok):
        return False
    holds = _condition_holds(statement.get("Condition") or {}, context, variables)
    if holds is None:  # unknown operator: refuse rather than allow
        return statement.get("Effect") == "Deny"
    return holds


def evaluate(documents: Iterable[Mapping[str, Any]], *, action: str, resource: str,
             variables: Mapping[str, str] | None = None, context: Mapping[str, str] | None = None) -> Decision:
    variables = dict(variables or {})
    context = {**variables, **(context or {})}
    allowed = False
    for document in documents:
        for statement in _listed_statements(document):
            if not _applies(statement, action, resource, context, variables):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.DENY
            allowed = allowed or statement.get("Effect") == "Allow"
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def _listed_statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement") or []
    return [statements] if isinstance(statements, Mapping) else list(statements)


def _document(raw: Any) -> dict[str, Any]:
    """IAM answers a policy document as a dict, or as URL-encoded JSON text."""
    if isinstance(raw, str):
        return json.loads(unquote(raw))
    return dict(raw)


def role_policies(iam: Any, role_name: str) -> list[dict[str, Any]]:
    """Every identity policy of a role: inline ones and the default versions of attached ones."""
    documents = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        documents.append(_document(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]))
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])
        documents.append(_document(version["PolicyVersion"]["Document"]))
    return documents


class RolePolicies:
    """A role's policies and id, read through `iam_for(account)` and kept `ttl` seconds (a redeploy's
    new policies apply within it). A role that cannot be read has no policies: nothing is allowed.

    Only a role's first read waits for IAM. After that an expired entry is still answered while one
    background thread reads the role again (IAM itself is eventually consistent): requests under load
    never all stop together to re-read the same role, each with its own five IAM calls."""

    def __init__(self, iam_for: Callable[[str], Any], *, ttl: float = 2.0) -> None:
        self._iam_for = iam_for
        self._ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, list[dict[str, Any]], str]] = {}
        self._refreshing: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def empty(self) -> bool:
        """Whether no role has been read yet (the next `of` waits on IAM)."""
        with self._lock:
            return not self._cache

    def of(self, account_id: str, role_arn: str) -> tuple[list[dict[str, Any]], str]:
        """(policy documents, role id) of a role."""
        key = (account_id, role_arn)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                if cached[0] <= time.monotonic() and key not in self._refreshing:
                    self._refreshing.add(key)
                    threading.Thread(target=self._read, args=key, daemon=True, name="iam-policies").start()
                return cached[1], cached[2]
        return self._read(account_id, role_arn)

    def _read(self, account_id: str, role_arn: str) -> tuple[list[dict[str, Any]], str]:
        name = role_arn.rsplit("/", 1)[-1]
        try:
            iam = self._iam_for(account_id)
            documents = role_policies(iam, name)
            role_id = iam.get_role(RoleName=name)["Role"]["RoleId"]
        except Exception:  # the role is gone, or IAM cannot be read: nothing is allowed
            documents, role_id = [], "AROAUNKNOWN"
        with self._lock:
            self._cache[(account_id, role_arn)] = (time.monotonic() + self._ttl, documents, role_id)
            self._refreshing.discard((account_id, role_arn))
        return documents, role_id
