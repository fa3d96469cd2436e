"""Stack policies as CloudFormation evaluates them during an update.

A stack with a policy denies every update action unless a statement allows it; an explicit
Deny wins over any Allow. Actions are `Update:Modify`, `Update:Replace`, `Update:Delete`
(wildcards `Update:*`, `*`); resources are `LogicalResourceId/<id>` (wildcards allowed), or
`NotResource`; a `Condition` may restrict by `ResourceType` (`StringEquals` / `StringLike`).
`denied(policy, changes)` names the first change the policy refuses, with CloudFormation's
wording, or answers None.
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any

ACTIONS = {"Modify": "Update:Modify", "Replace": "Update:Replace", "Remove": "Update:Delete"}


def parse(body: str) -> dict[str, Any]:
    """The policy document; raises ValueError with what is wrong."""
    document = json.loads(body)
    if not isinstance(document, dict) or not isinstance(document.get("Statement"), list):
        raise ValueError("a stack policy needs a Statement list")
    for statement in document["Statement"]:
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise ValueError("each statement's Effect must be Allow or Deny")
    return document


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _matches_resource(statement: dict[str, Any], logical_id: str) -> bool:
    target = f"LogicalResourceId/{logical_id}"
    if "NotResource" in statement:
        return not any(fnmatch.fnmatchcase(target, p) for p in _listed(statement["NotResource"]))
    return any(p == "*" or fnmatch.fnmatchcase(target, p) for p in _listed(statement.get("Resource")))


def _matches_action(statement: dict[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(action, p) for p in _listed(statement["NotAction"]))
    return any(fnmatch.fnmatchcase(action, p) for p in _listed(statement.get("Action")))


def _matches_condition(statement: dict[str, Any], resource_type: str) -> bool:
    for operator, tests in (statement.get("Condition") or {}).items():
        for values in (tests or {}).values():
            patterns = _listed(values)
            if operator == "StringEquals" and resource_type not in patterns:
                return False
            if operator == "StringLike" and not any(fnmatch.fnmatchcase(resource_type, p) for p in patterns):
                return False
    return True


def _applies(statement: dict[str, Any], action: str, logical_id: str, resource_type: str) -> bool:
    return (_matches_action(statement, action) and _matches_resource(statement, logical_id)
            and _matches_condition(statement, resource_type))


def denied(policy: str, changes: list[dict[str, Any]]) -> tuple[str, str] | None:
    """(logical id, reason) of the first change the policy refuses, else None."""
    if not policy:
        return None
    statements = parse(policy)["Statement"]
    for change in changes:
        rc = change["ResourceChange"]
        kind = "Replace" if rc.get("Replacement") == "True" else rc["Action"]
        action = ACTIONS.get(kind)
        if action is None:  # adding a resource is not governed by a stack policy
            continue
        lid, rtype = rc["LogicalResourceId"], rc.get("ResourceType", "")
        matching = [(i, s) for i, s in enumerate(statements, 1) if _applies(s, action, lid, rtype)]
        deny = next((i for i, s in matching if s["Effect"] == "Deny"), None)
        if deny is not None:
            return lid, f"Action denied by stack policy: Statement [#{deny}] does not allow [{action}] " \
                        f"for resource [LogicalResourceId/{lid}]"
        if not any(s["Effect"] == "Allow" for _, s in matching):
            return lid, f"Action not allowed by stack policy: no statement allows [{action}] " \
                        f"for resource [LogicalResourceId/{lid}]"
    return None
