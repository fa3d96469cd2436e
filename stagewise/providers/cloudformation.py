"""The provider: CloudFormation change sets through boto3 — on AWS, and on the local cloud, which
serves the same API (stagewise.cloud.cloudformation). Only the `Polling` differs.

Data flow: `plan` → describe_stacks (what state is the stack in?) → create_change_set (CREATE
or UPDATE, with the stack's tags) → poll describe_change_set → a StackPlan holding the change
set id. A change set "that didn't contain changes" is an empty plan (skipped, not failed); one
in CREATE_COMPLETE with no resource changes (only Outputs/Exports differ) is still executed.
A failed change set is deleted, and so is the REVIEW_IN_PROGRESS stack a failed first one
leaves. `apply` → execute_change_set → poll describe_stacks while streaming new
describe_stack_events to the callback → ApplyResult; a protected stack then gets termination
protection and a stack policy that refuses replacing or deleting its retained resources. A
stack left in ROLLBACK_COMPLETE by a failed create is deleted and created again;
UPDATE_ROLLBACK_FAILED is reported with the command that unsticks it. No call raises past
`apply`/`delete`: an API error becomes a failed ApplyResult with CloudFormation's message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from stagewise.providers.base import (
    Action,
    ApplyResult,
    EventSink,
    PlanError,
    Provider,
    ProviderError,
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
FAILED_CREATE = {"ROLLBACK_COMPLETE", "CREATE_FAILED", "ROLLBACK_FAILED"}
STUCK = {"UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "IMPORT_ROLLBACK_FAILED"}
ABSENT = {"DELETE_COMPLETE", "REVIEW_IN_PROGRESS"}
SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE"}
ACTIONS = {"Add": Action.ADD, "Remove": Action.REMOVE, "Modify": Action.MODIFY}
RETAINED = ("Retain", "RetainExceptOnCreate")
CALL_ERRORS = (ClientError, BotoCoreError)


@dataclass(frozen=True)
class Polling:
    """How often to ask, and for how long: milliseconds locally, seconds (with backoff) on AWS."""

    first: float
    longest: float
    deadline: float  # seconds one wait may take before it gives up (the operation goes on)
    sleep: Callable[[float], None] = time.sleep

    def intervals(self) -> Any:
        """Yields the successive waits until the deadline has passed."""
        began, wait = time.monotonic(), self.first
        while time.monotonic() - began < self.deadline:
            yield wait
            wait = min(wait * 1.5, self.longest)


LOCAL = Polling(first=0.005, longest=0.03, deadline=600)
AWS = Polling(first=1.0, longest=10.0, deadline=3 * 3600)


@dataclass(frozen=True)
class StackOptions:
    """What a stack carries besides its template: tags, and whether it is protected."""

    tags: Mapping[str, str]
    protect: bool = False


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
    return (f"stack {stack_name} is {status}: look at its events (`aws cloudformation describe-stack-events "
            f"--stack-name {stack_name}`), delete what blocks it, then `aws cloudformation delete-stack "
            f"--stack-name {stack_name}` and deploy again")


def retention_policy(template: Mapping[str, Any]) -> str:
    """A stack policy refusing to replace or delete the template's retained resources; all else allowed."""
    kept = sorted(lid for lid, res in (template.get("Resources") or {}).items()
                  if res.get("DeletionPolicy") in RETAINED)
    statements: list[dict[str, Any]] = [{"Effect": "Allow", "Principal": "*", "Action": "Update:*", "Resource": "*"}]
    if kept:
        statements.append({"Effect": "Deny", "Principal": "*", "Action": ["Update:Replace", "Update:Delete"],
                           "Resource": [f"LogicalResourceId/{lid}" for lid in kept]})
    return json.dumps({"Statement": statements}, sort_keys=True)


def _message(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Message", str(exc))
    return str(exc)


class CloudFormationProvider(Provider):
    kind = "cloudformation"

    def __init__(self, cfn: Any, *, polling: Polling = AWS, upload: TemplateUpload | None = None) -> None:
        self.cfn = cfn
        self.polling = polling
        self.upload = upload

    # -- reads -------------------------------------------------------------------------------
    def _stack(self, stack_name: str) -> dict[str, Any] | None:
        try:
            stacks = self.cfn.describe_stacks(StackName=stack_name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in _message(exc):
                return None
            raise ProviderError(f"stack {stack_name}: {_message(exc)}") from exc
        except BotoCoreError as exc:
            raise ProviderError(f"stack {stack_name}: {exc}") from exc
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
        except CALL_ERRORS:
            return {}
        return {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in found}

    def live_template(self, stack_name: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        """(template, parameters) a READY stack runs now; None when it is absent or not settled."""
        stack = self._stack(stack_name)
        if stack is None or health_of(stack["StackStatus"]) is not StackHealth.READY:
            return None
        body = self.cfn.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
        template = json.loads(body) if isinstance(body, str) else json.loads(json.dumps(body))
        return template, {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}

    # -- plan --------------------------------------------------------------------------------
    def plan(self, stack_name: str, template: dict[str, Any], parameters: dict[str, str],
             options: StackOptions | None = None) -> StackPlan:
        health, status = self._settled(stack_name)
        if health is StackHealth.STUCK:
            raise PlanError(unstick_advice(stack_name, status))
        if health is StackHealth.FAILED_CREATE:
            adds = tuple(ResourceChange(Action.ADD, lid, res.get("Type", "?"))
                         for lid, res in sorted(template.get("Resources", {}).items()))
            return StackPlan(stack_name, adds, creating=True, recreate=True,
                             handle={"template": template, "parameters": parameters, "options": options})
        creating = health is StackHealth.ABSENT
        if status == "REVIEW_IN_PROGRESS":
            self._drop_change_sets(stack_name)  # a crashed earlier run's; the stage lock says nobody else plans
        change_set_id = self._create_change_set(stack_name, template, parameters, options, creating=creating)
        return self._read_change_set(stack_name, change_set_id, creating=creating, options=options)

    def _settled(self, stack_name: str) -> tuple[StackHealth, str]:
        """The stack's health once no operation runs on it (an interrupted one is finishing)."""
        health, status = self.health(stack_name)
        for wait in self.polling.intervals():
            if health is not StackHealth.BUSY or status == "REVIEW_IN_PROGRESS":
                return health, status
            self.polling.sleep(wait)
            health, status = self.health(stack_name)
        raise PlanError(f"stack {stack_name} is still {status} after {self.polling.deadline:.0f} s; "
                        "wait for it to finish, then run the command again")

    def _create_change_set(self, stack_name: str, template: dict[str, Any], parameters: dict[str, str],
                           options: StackOptions | None, *, creating: bool) -> str:
        tags = [{"Key": k, "Value": v} for k, v in sorted((options.tags if options else {}).items())]
        try:
            answer = self.cfn.create_change_set(
                StackName=stack_name,
                **self._template_argument(stack_name, template),
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(parameters.items())],
                Capabilities=CAPABILITIES,
                ChangeSetName=f"stagewise-{int(time.time() * 1000)}",
                ChangeSetType="CREATE" if creating else "UPDATE",
                **({"Tags": tags} if tags else {}),
            )
        except CALL_ERRORS as exc:
            message = _message(exc)
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

    def _read_change_set(self, stack_name: str, change_set_id: str, *, creating: bool,
                         options: StackOptions | None) -> StackPlan:
        try:
            described = self._wait_change_set(stack_name, change_set_id)
            if described["Status"] == "FAILED":
                reason = described.get("StatusReason", "")
                self._discard_change_set(stack_name, change_set_id, creating=creating)
                if any(text in reason for text in NO_CHANGES):
                    return StackPlan(stack_name, (), creating=False)
                raise PlanError(f"stack {stack_name}: the change set failed: {reason}",
                                blocked=export_blocked(reason))
            changes = list(described.get("Changes", []))
            token = described.get("NextToken")
            while token:
                page = self.cfn.describe_change_set(ChangeSetName=change_set_id, NextToken=token)
                changes += page.get("Changes", [])
                token = page.get("NextToken")
        except CALL_ERRORS as exc:
            raise PlanError(f"stack {stack_name}: {_message(exc)}") from exc
        parsed = tuple(_resource_change(c["ResourceChange"]) for c in changes if "ResourceChange" in c)
        if not parsed and not creating:  # only Outputs/Exports differ: CloudFormation still has to apply it
            parsed = (ResourceChange(Action.MODIFY, "Outputs", "Outputs/Exports"),)
        return StackPlan(stack_name, parsed, creating=creating, handle={"id": change_set_id, "options": options})

    def _wait_change_set(self, stack_name: str, change_set_id: str) -> dict[str, Any]:
        for wait in self.polling.intervals():
            described = self.cfn.describe_change_set(ChangeSetName=change_set_id)
            if described["Status"] in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE"):
                return described
            self.polling.sleep(wait)
        self._discard_change_set(stack_name, change_set_id, creating=False)
        raise PlanError(f"stack {stack_name}: the change set was not ready after {self.polling.deadline:.0f} s")

    def _discard_change_set(self, stack_name: str, change_set_id: str, *, creating: bool) -> None:
        """Delete a change set that will not run, and the empty stack its CREATE made."""
        try:
            self.cfn.delete_change_set(ChangeSetName=change_set_id)
            if creating and self.health(stack_name)[1] == "REVIEW_IN_PROGRESS":
                self.cfn.delete_stack(StackName=stack_name)
        except CALL_ERRORS:
            pass  # best effort: the next plan of this stack clears what is left

    def _drop_change_sets(self, stack_name: str) -> None:
        try:
            for summary in self.cfn.list_change_sets(StackName=stack_name).get("Summaries", []):
                self.cfn.delete_change_set(ChangeSetName=summary["ChangeSetId"])
        except CALL_ERRORS:
            pass

    def discard(self, plan: StackPlan) -> None:
        if isinstance(plan.handle, dict) and "id" in plan.handle:
            self._discard_change_set(plan.stack_name, plan.handle["id"], creating=plan.creating)

    # -- apply -------------------------------------------------------------------------------
    def apply(self, plan: StackPlan, on_event: EventSink) -> ApplyResult:
        if plan.empty:
            return ApplyResult(plan.stack_name, ok=True, status="NO_CHANGES")
        try:
            return self._apply(plan, on_event)
        except (ProviderError, *CALL_ERRORS) as exc:
            return ApplyResult(plan.stack_name, ok=False, status="FAILED", reason=f"{_message(exc)}")

    def _apply(self, plan: StackPlan, on_event: EventSink) -> ApplyResult:
        handle = plan.handle
        if plan.recreate:
            deleted = self.delete(plan.stack_name, on_event)
            if not deleted.ok:
                return deleted
            change_set_id = self._create_change_set(plan.stack_name, handle["template"], handle["parameters"],
                                                    handle["options"], creating=True)
            handle = self._read_change_set(plan.stack_name, change_set_id, creating=True,
                                           options=handle["options"]).handle
        seen = self._event_ids(plan.stack_name)
        self.cfn.execute_change_set(ChangeSetName=handle["id"])
        result = self._wait_stack(plan.stack_name, seen, on_event)
        options: StackOptions | None = handle.get("options")
        if result.ok and options is not None and options.protect:
            self._protect(plan.stack_name)
        return result

    def _protect(self, stack_name: str) -> None:
        """Termination protection, and a policy that keeps retained data from being replaced or deleted."""
        template, _ = self.live_template(stack_name) or ({}, {})
        self.cfn.update_termination_protection(StackName=stack_name, EnableTerminationProtection=True)
        self.cfn.set_stack_policy(StackName=stack_name, StackPolicyBody=retention_policy(template))

    def unprotect(self, stack_name: str) -> None:
        if self.health(stack_name)[0] is not StackHealth.ABSENT:
            self.cfn.update_termination_protection(StackName=stack_name, EnableTerminationProtection=False)

    def delete(self, stack_name: str, on_event: EventSink) -> ApplyResult:
        try:
            if self._stack(stack_name) is None:
                return ApplyResult(stack_name, ok=True, status="DELETE_COMPLETE")
            seen = self._event_ids(stack_name)
            self.cfn.delete_stack(StackName=stack_name)
            return self._wait_stack(stack_name, seen, on_event)
        except (ProviderError, *CALL_ERRORS) as exc:
            return ApplyResult(stack_name, ok=False, status="DELETE_FAILED", reason=_message(exc))

    def _event_ids(self, stack_name: str) -> set[str]:
        return {e["EventId"] for e in self._events(stack_name)}

    def _events(self, stack_name: str) -> list[dict[str, Any]]:
        try:
            return self.cfn.describe_stack_events(StackName=stack_name).get("StackEvents", [])
        except ClientError:
            return []

    def _wait_stack(self, stack_name: str, seen: set[str], on_event: EventSink) -> ApplyResult:
        failures: list[str] = []
        for wait in self.polling.intervals():
            # The status first, then the events: once the status is final, the events read after it
            # hold every one written before it (read the other way round, the last events of a stack
            # that finished in between were never reported).
            stack = self._stack(stack_name)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            self._report_new_events(stack_name, seen, on_event, failures)
            if not status.endswith("IN_PROGRESS"):
                return self._result(stack_name, stack, status, failures)
            self.polling.sleep(wait)
        return ApplyResult(stack_name, ok=False, status="TIMED_OUT",
                           reason=f"still in progress after {self.polling.deadline:.0f} s; CloudFormation goes on "
                                  "with it: watch `aws cloudformation describe-stack-events`, then deploy again")

    def _report_new_events(self, stack_name: str, seen: set[str], on_event: EventSink, failures: list[str]) -> None:
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
