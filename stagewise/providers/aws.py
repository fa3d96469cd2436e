"""The aws provider: CloudFormation change sets through boto3.

Data flow: `plan` → describe_stacks (what state is the stack in?) → create_change_set (CREATE
or UPDATE) → poll describe_change_set → a StackPlan holding the change set id. `apply` →
execute_change_set → poll describe_stacks while streaming new describe_stack_events to the
callback → ApplyResult. A change set "that didn't contain changes" is an empty plan (skipped,
not failed). A stack left in ROLLBACK_COMPLETE by a failed create is deleted and created again;
UPDATE_ROLLBACK_FAILED is reported with the command that unsticks it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from stagewise.providers.base import (
    Action,
    ApplyResult,
    EventSink,
    PlanError,
    Provider,
    ResourceChange,
    StackEvent,
    StackHealth,
    StackPlan,
    export_blocked,
)

TEMPLATE_BODY_LIMIT = 51_200  # bytes CloudFormation accepts inline; larger ones go by TemplateURL
TemplateUpload = Callable[[str, bytes], str]  # (stack name, template bytes) -> an S3 https URL
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
READY = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE",
         "IMPORT_ROLLBACK_COMPLETE"}
FAILED_CREATE = {"ROLLBACK_COMPLETE", "CREATE_FAILED"}
STUCK = {"UPDATE_ROLLBACK_FAILED", "ROLLBACK_FAILED", "DELETE_FAILED", "IMPORT_ROLLBACK_FAILED"}
ABSENT = {"DELETE_COMPLETE", "REVIEW_IN_PROGRESS"}
SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"}
ACTIONS = {"Add": Action.ADD, "Remove": Action.REMOVE, "Modify": Action.MODIFY}


def health_of(status: str) -> StackHealth:
    if status in READY:
        return StackHealth.READY
    if status in FAILED_CREATE:
        return StackHealth.FAILED_CREATE
    if status in STUCK:
        return StackHealth.STUCK
    if status in ABSENT or not status:
        return StackHealth.ABSENT
    return StackHealth.BUSY


def unstick_advice(stack_name: str, status: str) -> str:
    if status == "UPDATE_ROLLBACK_FAILED":
        return (f"stack {stack_name} is UPDATE_ROLLBACK_FAILED: fix the resource named in its events, then run "
                f"`aws cloudformation continue-update-rollback --stack-name {stack_name}` (add "
                "--resources-to-skip for resources that cannot roll back) and deploy again")
    return (f"stack {stack_name} is {status}: look at its events in the CloudFormation console, delete what "
            f"blocks it, then `aws cloudformation delete-stack --stack-name {stack_name}` and deploy again")


class AwsProvider(Provider):
    kind = "aws"

    def __init__(self, cfn: Any, *, poll: float = 2.0, sleep: Callable[[float], None] = time.sleep,
                 upload: TemplateUpload | None = None) -> None:
        self.cfn = cfn
        self.poll = poll
        self.sleep = sleep
        self.upload = upload

    # -- reads -------------------------------------------------------------------------------
    def _stack(self, stack_name: str) -> dict[str, Any] | None:
        try:
            stacks = self.cfn.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in exc.response["Error"].get("Message", ""):
                return None
            raise
        return stacks[0] if stacks else None

    def health(self, stack_name: str) -> tuple[StackHealth, str]:
        stack = self._stack(stack_name)
        status = stack["StackStatus"] if stack else ""
        return health_of(status), status

    def outputs(self, stack_name: str) -> dict[str, str]:
        stack = self._stack(stack_name)
        return {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}

    def physical_ids(self, stack_name: str) -> dict[str, str]:
        try:
            found = self.cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
        except ClientError:
            return {}
        return {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in found}

    # -- plan --------------------------------------------------------------------------------
    def plan(self, stack_name: str, template: dict[str, Any], parameters: dict[str, str]) -> StackPlan:
        health, status = self.health(stack_name)
        if health is StackHealth.BUSY:
            raise PlanError(f"stack {stack_name} is {status}; wait for it to finish, then run the command again")
        if health is StackHealth.STUCK:
            raise PlanError(unstick_advice(stack_name, status))
        if health is StackHealth.FAILED_CREATE:
            adds = tuple(ResourceChange(Action.ADD, lid, res.get("Type", "?"))
                         for lid, res in sorted(template.get("Resources", {}).items()))
            return StackPlan(stack_name, adds, creating=True, recreate=True,
                             handle={"template": template, "parameters": parameters})
        creating = health is StackHealth.ABSENT
        change_set_id = self._create_change_set(stack_name, template, parameters, creating=creating)
        return self._read_change_set(stack_name, change_set_id, creating=creating)

    def _create_change_set(self, stack_name: str, template: dict[str, Any], parameters: dict[str, str],
                           *, creating: bool) -> str:
        try:
            answer = self.cfn.create_change_set(
                StackName=stack_name,
                **self._template_argument(stack_name, template),
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())],
                Capabilities=CAPABILITIES,
                ChangeSetName=f"stagewise-{int(time.time() * 1000)}",
                ChangeSetType="CREATE" if creating else "UPDATE",
            )
        except ClientError as exc:
            message = exc.response["Error"].get("Message", str(exc))
            raise PlanError(f"stack {stack_name}: {message}", blocked=export_blocked(message)) from exc
        return answer["Id"]

    def _template_argument(self, stack_name: str, template: dict[str, Any]) -> dict[str, str]:
        body = json.dumps(template, sort_keys=True, separators=(",", ":"))
        if len(body.encode()) <= TEMPLATE_BODY_LIMIT:
            return {"TemplateBody": body}
        if self.upload is None:
            raise PlanError(f"stack {stack_name}: the template is {len(body.encode())} bytes, over CloudFormation's "
                            f"{TEMPLATE_BODY_LIMIT}-byte inline limit, and no bucket was given to upload it to")
        return {"TemplateURL": self.upload(stack_name, body.encode())}

    def _read_change_set(self, stack_name: str, change_set_id: str, *, creating: bool) -> StackPlan:
        described = self._wait_change_set(change_set_id)
        if described["Status"] == "FAILED":
            reason = described.get("StatusReason", "")
            if any(text in reason for text in NO_CHANGES):
                self.cfn.delete_change_set(ChangeSetName=change_set_id)
                return StackPlan(stack_name, (), creating=False)
            raise PlanError(f"stack {stack_name}: the change set failed: {reason}",
                            blocked=export_blocked(reason))
        changes = list(described.get("Changes", []))
        token = described.get("NextToken")
        while token:
            page = self.cfn.describe_change_set(ChangeSetName=change_set_id, NextToken=token)
            changes += page.get("Changes", [])
            token = page.get("NextToken")
        parsed = tuple(_resource_change(c["ResourceChange"]) for c in changes if "ResourceChange" in c)
        return StackPlan(stack_name, parsed, creating=creating, handle=change_set_id)

    def _wait_change_set(self, change_set_id: str) -> dict[str, Any]:
        while True:
            described = self.cfn.describe_change_set(ChangeSetName=change_set_id)
            if described["Status"] in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"):
                return described
            self.sleep(self.poll)

    def discard(self, plan: StackPlan) -> None:
        if isinstance(plan.handle, str):
            self.cfn.delete_change_set(ChangeSetName=plan.handle)
            if plan.creating and self.health(plan.stack_name)[1] == "REVIEW_IN_PROGRESS":
                self.cfn.delete_stack(StackName=plan.stack_name)

    # -- apply -------------------------------------------------------------------------------
    def apply(self, plan: StackPlan, on_event: EventSink) -> ApplyResult:
        if plan.empty:
            return ApplyResult(plan.stack_name, ok=True, status="NO_CHANGES")
        handle = plan.handle
        if plan.recreate:
            deleted = self.delete(plan.stack_name, on_event)
            if not deleted.ok:
                return deleted
            handle = self._create_change_set(plan.stack_name, handle["template"], handle["parameters"],
                                             creating=True)
            replanned = self._read_change_set(plan.stack_name, handle, creating=True)
            handle = replanned.handle
        seen = self._event_ids(plan.stack_name)
        self.cfn.execute_change_set(ChangeSetName=handle)
        return self._wait_stack(plan.stack_name, seen, on_event)

    def delete(self, stack_name: str, on_event: EventSink) -> ApplyResult:
        if self._stack(stack_name) is None:
            return ApplyResult(stack_name, ok=True, status="DELETE_COMPLETE")
        seen = self._event_ids(stack_name)
        self.cfn.delete_stack(StackName=stack_name)
        return self._wait_stack(stack_name, seen, on_event)

    def _event_ids(self, stack_name: str) -> set[str]:
        return {e["EventId"] for e in self._events(stack_name)}

    def _events(self, stack_name: str) -> list[dict[str, Any]]:
        try:
            return self.cfn.describe_stack_events(StackName=stack_name).get("StackEvents", [])
        except ClientError:
            return []

    def _wait_stack(self, stack_name: str, seen: set[str], on_event: EventSink) -> ApplyResult:
        failures: list[str] = []
        while True:
            for event in reversed(self._events(stack_name)):  # oldest first
                if event["EventId"] in seen:
                    continue
                seen.add(event["EventId"])
                status = event.get("ResourceStatus", "")
                reason = event.get("ResourceStatusReason", "")
                if status.endswith("FAILED") and reason and event.get("LogicalResourceId") != stack_name:
                    failures.append(f"{event['LogicalResourceId']}: {reason}")
                on_event(StackEvent(stack_name, event.get("LogicalResourceId", ""),
                                    event.get("ResourceType", ""), status, reason))
            stack = self._stack(stack_name)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if not status.endswith("IN_PROGRESS"):
                return self._result(stack_name, stack, status, failures)
            self.sleep(self.poll)

    def _result(self, stack_name: str, stack: dict[str, Any] | None, status: str,
                failures: list[str]) -> ApplyResult:
        outputs = {o["OutputKey"]: o["OutputValue"] for o in (stack or {}).get("Outputs", [])}
        if status in SUCCESS:
            return ApplyResult(stack_name, ok=True, status=status, outputs=outputs)
        reason = "; ".join(failures) or (stack or {}).get("StackStatusReason", "") or status
        if status in STUCK:
            reason = f"{reason}. {unstick_advice(stack_name, status)}"
        elif status == "ROLLBACK_COMPLETE":
            reason = f"{reason} (the failed stack is deleted and created again on the next deploy)"
        return ApplyResult(stack_name, ok=False, status=status, reason=reason, outputs=outputs)


def _resource_change(change: dict[str, Any]) -> ResourceChange:
    action = ACTIONS.get(change.get("Action", ""), Action.MODIFY)
    forcing = ""
    if action is Action.MODIFY and change.get("Replacement") in ("True", "Conditional"):
        action = Action.REPLACE
        forcing = next((d["Target"].get("Name") or d["Target"].get("Attribute", "")
                        for d in change.get("Details", [])
                        if d.get("Target", {}).get("RequiresRecreation") in ("Always", "Conditionally")), "")
    return ResourceChange(action, change.get("LogicalResourceId", ""), change.get("ResourceType", ""), forcing)


