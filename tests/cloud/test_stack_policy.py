"""Stack policies, evaluated by the shared IAM evaluator: default deny once a policy is set, explicit
Deny wins and names its statement, NotResource, and conditions on ResourceType."""

from __future__ import annotations

import json

from stagewise.cloud.cloudformation.policy import denied


def change(lid: str, action: str = "Modify", *, replace: bool = False, rtype: str = "AWS::DynamoDB::Table") -> dict:
    resource = {"Action": action, "LogicalResourceId": lid, "ResourceType": rtype}
    if action == "Modify":
        resource["Replacement"] = "True" if replace else "False"
    return {"Type": "Resource", "ResourceChange": resource}


def policy(*statements: dict) -> str:
    return json.dumps({"Statement": list(statements)})


ALLOW_ALL = {"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"}


def test_deny_wins_and_names_its_statement_and_adds_are_not_governed() -> None:
    body = policy(ALLOW_ALL, {"Effect": "Deny", "Principal": "*", "Action": ["Update:Replace", "Update:Delete"],
                              "Resource": "LogicalResourceId/Table"})
    assert denied(body, [change("Table")]) is None  # a modify is allowed
    lid, reason = denied(body, [change("Queue"), change("Table", replace=True)])
    assert lid == "Table" and reason.startswith("Action denied by stack policy: Statement [#2]")
    assert denied(body, [change("Table", "Remove")])[0] == "Table"
    assert denied(policy({"Effect": "Deny", "Action": "Update:*", "Resource": "*"}), [change("New", "Add")]) is None


def test_nothing_allowed_unless_a_statement_allows_and_conditions_on_resource_type() -> None:
    assert denied(policy(), [change("Table")])[1].startswith("Action not allowed by stack policy")
    tables_kept = policy(ALLOW_ALL, {"Effect": "Deny", "Action": "Update:Replace", "Resource": "*",
                                     "Condition": {"StringEquals": {"ResourceType": ["AWS::DynamoDB::Table"]}}})
    assert denied(tables_kept, [change("Fn", replace=True, rtype="AWS::Lambda::Function")]) is None
    assert denied(tables_kept, [change("Table", replace=True)])[0] == "Table"
    everything_but = policy({"Effect": "Allow", "Action": "Update:*", "NotResource": "LogicalResourceId/Table"})
    assert denied(everything_but, [change("Fn")]) is None and denied(everything_but, [change("Table")])
