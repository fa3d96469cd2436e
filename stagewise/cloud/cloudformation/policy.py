"""Stack policies as CloudFormation evaluates them during an update.

A stack with a policy denies every update action unless a statement allows it; an explicit
Deny wins over any Allow. Actions are `Update:Modify`, `Update:Replace`, `Update:Delete`
(wildcards `Update:*`, `*`); resources are `LogicalResourceId/<id>` (wildcards allowed), or
`NotResource`; a `Condition` may restrict by `ResourceType` (`StringEquals` / `StringLike`).
`denied(policy, changes)` names the first change the policy refuses, with CloudFormation's
wording, or answers None.
"""

from __future__ import annotations

import json
from typing import Any

from stagewise.iam_policy import Decision, evaluate

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


def _decision(statement: dict[str, Any], action: str, logical_id: str, resource_type: str) -> Decision:
    """One statement's say on one change, by the IAM evaluator (wildcards, Not*, conditions on
    `ResourceType`; an operator it does not know never allows)."""
    return evaluate([{"Statement": [statement]}], action=action, resource=f"LogicalResourceId/{logical_id}",
                    context={"ResourceType": resource_type})


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
        said = [(i, _decision(s, action, lid, rtype)) for i, s in enumerate(statements, 1)]
        deny = next((i for i, decision in said if decision is Decision.DENY), None)
        if deny is not None:
            return lid, f"Action denied by stack policy: Statement [#{deny}] does not allow [{action}] " \
                        f"for resource [LogicalResourceId/{lid}]"
        if not any(decision is Decision.ALLOW for _, decision in said):
            return lid, f"Action not allowed by stack policy: no statement allows [{action}] " \
                        f"for resource [LogicalResourceId/{lid}]"
    return None
