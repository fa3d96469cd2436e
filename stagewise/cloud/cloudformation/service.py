"""CloudFormation's API in the local cloud, served by the stagewise provisioner.

Data flow: the cloud's WSGI app hands a request recognised as CloudFormation's to
`CloudFormation.handle(account, request)`; the action's method reads and writes two things,
both kept in the account's state bucket through the cloud's own S3 API (so journaled and
durable): the provisioner's stack state (resources, outputs, exports) and this module's
`StackRecord`s and `ChangeSet`s (records.py).

- `CreateChangeSet` parses the template and asks the provisioner for a plan (reads only);
  the change set is stored CREATE_COMPLETE with its changes (an outputs-only change has
  none), or FAILED with CloudFormation's reason ("didn't contain changes", "No export named").
  A CREATE change set of a new stack leaves the stack in REVIEW_IN_PROGRESS.
- `ExecuteChangeSet` / `DeleteStack` start an `Operation` in a thread of the cloud process and
  answer at once; the provisioner deploys (or deletes, or rolls back) through in-process clients
  of the same cloud, and its resource events become stack events. `DescribeStacks` reports
  the running operation's status until it settles, as CloudFormation does.
- An operation that a killed cloud left behind (a record or a state still `*_IN_PROGRESS`, no
  thread running it) is recovered on the next call that reads the stack: a create is rolled
  back, an update is rolled back to the previous template, a delete is finished.

Ids come from `protocol.new_uuid` (never moto's seeded generator) and nothing of this module
is journaled: what must survive is written through S3 requests that are.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from stagewise.cloud.cloudformation import policy as stack_policy
from stagewise.cloud.cloudformation.protocol import ApiError, Request, new_uuid, validation
from stagewise.cloud.cloudformation.records import ChangeSet, RecordStore, StackRecord, now
from stagewise.provisioner import Action, Provisioner, ProvisionerError, ResourceEvent, StackState
from stagewise.provisioner.parameters import bind_parameters
from stagewise.provisioner.template import parse_template

NAME = re.compile(r"^[A-Za-z][-A-Za-z0-9]{0,127}$")
NO_CHANGES = "The submitted information didn't contain changes. Submit different information to create a change set."
READY = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}
IAM_TYPES = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User",
             "AWS::IAM::Group", "AWS::IAM::InstanceProfile", "AWS::IAM::AccessKey", "AWS::IAM::UserToGroupAddition"}
IAM_NAMES = {"AWS::IAM::Role": "RoleName", "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName",
             "AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::InstanceProfile": "InstanceProfileName"}
PAGE = 100
ClientFor = Callable[[str, str, str], Any]  # (account, region, service) -> boto3 client


@dataclass
class Operation:
    """A stack operation running in a thread: what DescribeStacks reports while it runs."""

    kind: str  # CREATE / UPDATE / DELETE / ROLLBACK (recovering an interrupted create or update)
    status: str
    events: list[dict[str, Any]] = field(default_factory=list)
    thread: threading.Thread | None = None


class CloudFormation:
    """One per cloud process; every method takes the caller's account and region."""

    def __init__(self, client_for: ClientFor, *, checkpoints: Path | None = None) -> None:
        self.client_for = client_for
        self.checkpoints = checkpoints
        self._ops: dict[tuple[str, str, str], Operation] = {}
        self._lock = threading.Lock()
        self._accounts: dict[tuple[str, str], Account] = {}
        # The provisioner's stack states as last read. Only this process's operations change them,
        # so a state read once serves every poll until an operation on that stack starts or ends.
        self._states: dict[tuple[str, str, str], StackState | None] = {}
        self.on_operation_end: Callable[[], None] = lambda: None  # the server releases freed memory after a burst

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, account: str, request: Request) -> dict[str, Any]:
        method = getattr(self, "_" + re.sub(r"(?<!^)(?=[A-Z])", "_", request.action).lower(), None)
        if method is None:
            raise ApiError("InvalidAction", f"The local CloudFormation does not support {request.action}")
        return method(self._account(account, request.region), request.params)

    def _account(self, account: str, region: str) -> Account:
        key = (account, region)
        if key not in self._accounts:
            self._accounts[key] = Account(self, account, region)
        return self._accounts[key]

    # -- change sets ---------------------------------------------------------------------------
    def _create_change_set(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        name, cs_name = _stack_name(p), p.get("ChangeSetName", "")
        if not NAME.match(cs_name):
            raise validation(f"ChangeSetName {cs_name!r} must match {NAME.pattern}")
        kind = p.get("ChangeSetType", "UPDATE")
        record, state = acct.stack(name)
        status = acct.status(name, record, state)
        body, template = acct.template_of(p, record)
        parameters = _parameters(p, state)
        _check_capabilities(template, p.get("Capabilities", []))
        try:
            bind_parameters(template.get("Parameters", {}), parameters)
        except ProvisionerError as exc:  # CloudFormation refuses these at once, not in a FAILED change set
            raise validation(str(exc)) from exc
        if kind == "CREATE":
            if status and status != "REVIEW_IN_PROGRESS":
                raise ApiError("AlreadyExistsException",
                               f"Stack [{name}] already exists and cannot be created again with the changeSet [{cs_name}].")
            if record is None:
                record = StackRecord(name=name, stack_id=acct.new_stack_id(name), created=now(),
                                     status="REVIEW_IN_PROGRESS")
                record.add_events([acct.event(record, name, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS",
                                              reason="User Initiated")])
                acct.records.save_stack(record)
        elif not status or status == "REVIEW_IN_PROGRESS":
            raise validation(f"Stack [{name}] does not exist")
        elif status not in READY:
            raise validation(f"Stack:{record.stack_id if record else name} is in {status} state and can not be updated.")
        if record is None:  # deployed by an older local cloud, before this API kept records
            record = acct.adopt(name, state)
            acct.records.save_stack(record)
        if acct.records.change_set(name, cs_name) is not None:
            raise ApiError("AlreadyExistsException", f"ChangeSet {cs_name} already exists")
        change_set = ChangeSet(
            change_set_id=f"arn:aws:cloudformation:{acct.region}:{acct.account}:changeSet/{cs_name}/{new_uuid()}",
            name=cs_name, stack_name=name, stack_id=record.stack_id, change_set_type=kind, created=now(),
            template_body=body, parameters=parameters, capabilities=list(p.get("Capabilities", [])),
            tags=list(p.get("Tags", [])), description=p.get("Description", ""),
        )
        self._plan_into(acct, change_set, template, state)
        acct.records.save_change_set(change_set)
        return {"Id": change_set.change_set_id, "StackId": record.stack_id}

    def _plan_into(self, acct: Account, change_set: ChangeSet, template: dict[str, Any],
                   state: StackState | None) -> None:
        try:
            plan = acct.provisioner().plan(change_set.stack_name, template, change_set.parameters)
        except ProvisionerError as exc:
            change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
            change_set.status_reason = str(exc)
            return
        change_set.changes = [_change(c) for c in plan.changes if c.action is not Action.UNCHANGED]
        same = (state is not None and not plan.has_changes and state.template == template
                and state.parameters == change_set.parameters)
        if same:
            change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
            change_set.status_reason = NO_CHANGES

    def _describe_change_set(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        cs = acct.find_change_set(p["ChangeSetName"], p.get("StackName"))
        start = int(p.get("NextToken") or 0)
        page = cs.changes[start:start + PAGE]
        answer = {
            "ChangeSetName": cs.name, "ChangeSetId": cs.change_set_id, "StackId": cs.stack_id,
            "StackName": cs.stack_name, "Description": cs.description or None,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(cs.parameters.items())],
            "CreationTime": _time(cs.created), "ExecutionStatus": cs.execution_status, "Status": cs.status,
            "StatusReason": cs.status_reason or None, "Capabilities": cs.capabilities, "Tags": cs.tags,
            "Changes": page, "IncludeNestedStacks": False,
        }
        if start + PAGE < len(cs.changes):
            answer["NextToken"] = str(start + PAGE)
        return _clean(answer)

    def _list_change_sets(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        name = _stack_name(p)
        return {"Summaries": [_clean({
            "StackId": cs.stack_id, "StackName": cs.stack_name, "ChangeSetId": cs.change_set_id,
            "ChangeSetName": cs.name, "ExecutionStatus": cs.execution_status, "Status": cs.status,
            "StatusReason": cs.status_reason or None, "CreationTime": _time(cs.created),
            "Description": cs.description or None}) for cs in acct.records.change_sets(name)]}

    def _delete_change_set(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        cs = acct.find_change_set(p["ChangeSetName"], p.get("StackName"))
        if cs.execution_status == "EXECUTE_IN_PROGRESS":
            raise ApiError("InvalidChangeSetStatus",
                           f"ChangeSet [{cs.change_set_id}] cannot be deleted while it is being executed")
        acct.records.drop_change_set(cs)
        return {}

    def _execute_change_set(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        cs = acct.find_change_set(p["ChangeSetName"], p.get("StackName"))
        if cs.status != "CREATE_COMPLETE" or cs.execution_status != "AVAILABLE":
            raise ApiError("InvalidChangeSetStatus",
                           f"ChangeSet [{cs.change_set_id}] cannot be executed in its current status of "
                           f"[{cs.status if cs.status != 'CREATE_COMPLETE' else cs.execution_status}]")
        record, state = acct.stack(cs.stack_name)
        record = record or acct.adopt(cs.stack_name, state)
        denied = stack_policy.denied(record.policy, cs.changes) if cs.change_set_type == "UPDATE" else None
        template = json.loads(cs.template_body)
        kind = "CREATE" if cs.change_set_type == "CREATE" else "UPDATE"
        with self._claim(acct, cs.stack_name, kind, f"{kind}_IN_PROGRESS") as op:
            record.operation, record.status, record.reason = kind, "", ""
            record.previous_body = record.template_body
            record.previous_parameters = dict(state.parameters) if state else {}
            record.template_body, record.capabilities = cs.template_body, cs.capabilities
            record.tags = cs.tags or record.tags
            record.description = str(template.get("Description", ""))
            record.add_events([acct.event(record, cs.stack_name, "AWS::CloudFormation::Stack", op.status,
                                          reason="User Initiated")])
            acct.records.save_stack(record)
            for other in acct.records.change_sets(cs.stack_name):  # executing one removes them all
                acct.records.drop_change_set(other)
            run = (lambda: self._refuse(acct, record, op, cs, *denied)) if denied else (
                lambda: self._deploy(acct, record, op, template, cs.parameters))
            self._start(acct, record, op, run)
        return {}

    # -- stacks --------------------------------------------------------------------------------
    def _create_stack(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        name = _stack_name(p)
        cs_name = f"stagewise-create-{new_uuid().hex[:12]}"
        made = self._create_change_set(acct, {**p, "ChangeSetName": cs_name, "ChangeSetType": "CREATE"})
        record = acct.records.stack(name) or acct.adopt(name, None)
        record.termination_protection = bool(p.get("EnableTerminationProtection"))
        if p.get("StackPolicyBody"):
            record.policy = _valid_policy(p["StackPolicyBody"])
        acct.records.save_stack(record)
        cs = acct.records.change_set(name, cs_name)
        if cs is not None and cs.status == "FAILED":
            acct.records.drop_stack(name)
            raise validation(cs.status_reason)
        self._execute_change_set(acct, {"ChangeSetName": cs_name, "StackName": name})
        return {"StackId": made["StackId"]}

    def _update_stack(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        name = _stack_name(p)
        cs_name = f"stagewise-update-{new_uuid().hex[:12]}"
        made = self._create_change_set(acct, {**p, "ChangeSetName": cs_name, "ChangeSetType": "UPDATE"})
        cs = acct.records.change_set(name, cs_name)
        if cs is not None and cs.status == "FAILED":
            acct.records.drop_change_set(cs)
            raise validation("No updates are to be performed." if cs.status_reason == NO_CHANGES else cs.status_reason)
        self._execute_change_set(acct, {"ChangeSetName": cs_name, "StackName": name})
        return {"StackId": made["StackId"]}

    def _delete_stack(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        name = _stack_name(p)
        record, state = acct.stack(name)
        status = acct.status(name, record, state)
        if not status:
            return {}
        if record is not None and record.termination_protection:
            raise validation(f"Stack [{name}] cannot be deleted while TerminationProtection is enabled")
        if status == "DELETE_IN_PROGRESS":
            return {}
        if status == "REVIEW_IN_PROGRESS" or (state is None and record is not None):
            acct.records.drop_stack(name)
            return {}
        record = record or acct.adopt(name, state)
        with self._claim(acct, name, "DELETE", "DELETE_IN_PROGRESS") as op:
            record.operation, record.status, record.reason = "DELETE", "", ""
            record.add_events([acct.event(record, name, "AWS::CloudFormation::Stack", op.status,
                                          reason="User Initiated")])
            acct.records.save_stack(record)
            self._start(acct, record, op, lambda: self._delete(acct, record, op))
        return {}

    def _describe_stacks(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        names = [_stack_name(p)] if p.get("StackName") else acct.stack_names()
        stacks = []
        for name in names:
            record, state = acct.stack(name)
            status = acct.status(name, record, state)
            if not status:
                if p.get("StackName"):
                    raise validation(f"Stack with id {p['StackName']} does not exist")
                continue
            stacks.append(acct.describe(name, record or acct.adopt(name, state), state, status))
        return {"Stacks": stacks}

    def _list_stacks(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        """Summaries of the stacks that exist (deleted ones are not kept locally), by status filter."""
        wanted = set(p.get("StackStatusFilter") or [])
        summaries = []
        for name in acct.stack_names():
            record, state = acct.stack(name)
            status = acct.status(name, record, state)
            if not status or (wanted and status not in wanted):
                continue
            described = acct.describe(name, record or acct.adopt(name, state), state, status)
            summaries.append(_clean({k: described.get(k) for k in (
                "StackId", "StackName", "CreationTime", "LastUpdatedTime", "StackStatus", "StackStatusReason",
                "DriftInformation")} | {"TemplateDescription": described.get("Description")}))
        return {"StackSummaries": summaries}

    def _describe_stack_events(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        name = _stack_name(p)
        record, state = acct.stack(name)
        if not acct.status(name, record, state):
            raise validation(f"Stack [{p['StackName']}] does not exist")
        op = self._ops.get(acct.key(name))
        events = list(record.events if record else []) + list(op.events if op else [])
        events.reverse()  # newest first
        start = int(p.get("NextToken") or 0)
        answer: dict[str, Any] = {"StackEvents": [_event_out(e) for e in events[start:start + PAGE]]}
        if start + PAGE < len(events):
            answer["NextToken"] = str(start + PAGE)
        return answer

    def _stack_resources(self, acct: Account, p: dict[str, Any]) -> tuple[StackRecord, StackState | None]:
        name = _stack_name(p)
        record, state = acct.stack(name)
        if not acct.status(name, record, state):
            raise validation(f"Stack with id {p['StackName']} does not exist")
        return record or acct.adopt(name, state), state

    def _describe_stack_resources(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        record, state = self._stack_resources(acct, p)
        found = [_resource_out(record, r, state) for r in (state.resources.values() if state else [])
                 if p.get("LogicalResourceId") in (None, r.logical_id)
                 and p.get("PhysicalResourceId") in (None, r.physical_id)]
        return {"StackResources": found}

    def _describe_stack_resource(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        record, state = self._stack_resources(acct, p)
        resource = state.resources.get(p["LogicalResourceId"]) if state else None
        if resource is None:
            raise validation(f"Resource {p['LogicalResourceId']} does not exist for stack {record.name}")
        detail = _resource_out(record, resource, state)
        detail["LastUpdatedTimestamp"] = detail.pop("Timestamp")
        detail["Metadata"] = json.dumps(resource.metadata) if resource.metadata else None
        return {"StackResourceDetail": _clean(detail)}

    def _list_stack_resources(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        record, state = self._stack_resources(acct, p)
        summaries = []
        for r in state.resources.values() if state else []:
            out = _resource_out(record, r, state)
            summaries.append({k: out[k] for k in ("LogicalResourceId", "PhysicalResourceId", "ResourceType",
                                                  "ResourceStatus")} | {"LastUpdatedTimestamp": out["Timestamp"]})
        return {"StackResourceSummaries": summaries}

    def _get_template(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("ChangeSetName"):
            body = acct.find_change_set(p["ChangeSetName"], p.get("StackName")).template_body
        else:
            record, state = self._stack_resources(acct, p)
            body = record.template_body or json.dumps(state.template if state else {})
        return {"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]}

    def _validate_template(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        _, template = acct.template_of(p, None)
        needed = _capabilities(template)
        answer = {
            "Parameters": [_clean({"ParameterKey": k, "DefaultValue": None if "Default" not in v else str(v["Default"]),
                                   "NoEcho": bool(v.get("NoEcho", False)), "Description": v.get("Description")})
                           for k, v in template.get("Parameters", {}).items()],
            "Description": template.get("Description"),
            "Capabilities": needed,
            "CapabilitiesReason": f"The following resource(s) require capabilities: [{', '.join(sorted(_iam_types(template)))}]"
            if needed else None,
            "DeclaredTransforms": [],
        }
        return _clean(answer)

    def _list_exports(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        exports = []
        for state in acct.provisioner().list_stacks():
            record = acct.records.stack(state.name) or acct.adopt(state.name, state)
            exports += [{"ExportingStackId": record.stack_id, "Name": n, "Value": v}
                        for n, v in sorted(state.exports.items())]
        start = int(p.get("NextToken") or 0)
        answer: dict[str, Any] = {"Exports": exports[start:start + PAGE]}
        if start + PAGE < len(exports):
            answer["NextToken"] = str(start + PAGE)
        return answer

    def _list_imports(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        name = p["ExportName"]
        importers = sorted(s.name for s in acct.provisioner().list_stacks() if name in s.imports)
        if not importers:
            raise validation(f"Export '{name}' is not imported by any stack.")
        return {"Imports": importers}

    def _update_termination_protection(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        record = self._stack_resources(acct, p)[0]
        record.termination_protection = bool(p["EnableTerminationProtection"])
        acct.records.save_stack(record)
        return {"StackId": record.stack_id}

    def _set_stack_policy(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        record = self._stack_resources(acct, p)[0]
        body = p.get("StackPolicyBody") or acct.fetch_url(p.get("StackPolicyURL", ""))
        record.policy = _valid_policy(body)
        acct.records.save_stack(record)
        return {}

    def _get_stack_policy(self, acct: Account, p: dict[str, Any]) -> dict[str, Any]:
        record = self._stack_resources(acct, p)[0]
        return {"StackPolicyBody": record.policy} if record.policy else {}

    # -- operations ----------------------------------------------------------------------------
    def _claim(self, acct: Account, name: str, kind: str, status: str) -> _Claim:
        return _Claim(self, acct.key(name), Operation(kind, status))

    def _start(self, acct: Account, record: StackRecord, op: Operation, run: Callable[[], None]) -> None:
        def body() -> None:
            try:
                run()
            except Exception as exc:  # an unexpected error must still settle the stack
                record.status, record.reason = _failed_status(op.kind), f"Internal failure: {type(exc).__name__}: {exc}"
                op.events.append(acct.event(record, record.name, "AWS::CloudFormation::Stack", record.status,
                                            reason=record.reason))
                self._settle(acct, record, op)
            finally:
                self.on_operation_end()

        op.thread = threading.Thread(target=body, name=f"cfn-{record.name}", daemon=True)
        op.thread.start()

    def _sink(self, acct: Account, record: StackRecord, op: Operation) -> Callable[[ResourceEvent], None]:
        failing = {"CREATE": "ROLLBACK_IN_PROGRESS", "UPDATE": "UPDATE_ROLLBACK_IN_PROGRESS"}

        def on_event(event: ResourceEvent) -> None:
            op.events.append(acct.event(record, event.logical_id, event.resource_type, str(event.status),
                                        physical_id=event.physical_id, reason=event.reason))
            rolling = failing.get(op.kind)
            if str(event.status).endswith("_FAILED") and rolling and op.status != rolling:
                op.status = rolling
                verb = "create" if op.kind == "CREATE" else "update"
                op.events.append(acct.event(record, record.name, "AWS::CloudFormation::Stack", rolling,
                                            reason=f"The following resource(s) failed to {verb}: [{event.logical_id}]. "))
        return on_event

    def _deploy(self, acct: Account, record: StackRecord, op: Operation, template: dict[str, Any],
                parameters: dict[str, str]) -> None:
        try:
            state = acct.provisioner(self._sink(acct, record, op)).deploy(record.name, template, parameters)
            final, reason = str(state.status), ""
        except ProvisionerError as exc:
            _, state = acct.stack(record.name, fresh=True)
            final, reason = (str(state.status) if state else _failed_status(op.kind)), str(exc)
        if op.kind == "ROLLBACK":  # recovering an interrupted update: it ends rolled back
            final = "UPDATE_ROLLBACK_COMPLETE" if not reason else "UPDATE_ROLLBACK_FAILED"
            record.status = final
        record.reason = reason
        op.events.append(acct.event(record, record.name, "AWS::CloudFormation::Stack", final, reason=reason))
        self._settle(acct, record, op)

    def _refuse(self, acct: Account, record: StackRecord, op: Operation, cs: ChangeSet, logical_id: str,
                reason: str) -> None:
        """An update the stack policy denies: it fails and rolls back without touching a resource."""
        resource_type = next((c["ResourceChange"].get("ResourceType", "") for c in cs.changes
                              if c["ResourceChange"]["LogicalResourceId"] == logical_id), "")
        for status, lid, why in (("UPDATE_FAILED", logical_id, reason),
                                 ("UPDATE_ROLLBACK_IN_PROGRESS", record.name,
                                  f"The following resource(s) failed to update: [{logical_id}]. "),
                                 ("UPDATE_ROLLBACK_COMPLETE", record.name, "")):
            kind = "AWS::CloudFormation::Stack" if lid == record.name else resource_type
            op.events.append(acct.event(record, lid, kind, status, reason=why))
        record.template_body = record.previous_body
        record.status, record.reason = "UPDATE_ROLLBACK_COMPLETE", reason
        self._settle(acct, record, op)

    def _delete(self, acct: Account, record: StackRecord, op: Operation) -> None:
        try:
            acct.provisioner(self._sink(acct, record, op)).delete(record.name)
        except ProvisionerError as exc:
            record.status, record.reason = "DELETE_FAILED", str(exc)
            op.events.append(acct.event(record, record.name, "AWS::CloudFormation::Stack", "DELETE_FAILED",
                                        reason=str(exc)))
            self._settle(acct, record, op)
            return
        with self._lock:
            acct.records.drop_stack(record.name)
            self._states.pop(acct.key(record.name), None)
            self._ops.pop(acct.key(record.name), None)

    def _settle(self, acct: Account, record: StackRecord, op: Operation) -> None:
        with self._lock:
            self._states.pop(acct.key(record.name), None)
            record.operation, record.previous_body, record.previous_parameters = "", "", {}
            record.add_events(op.events)
            acct.records.save_stack(record)
            self._ops.pop(acct.key(record.name), None)

    def recover(self, acct: Account, name: str) -> str:
        """Settle an operation a killed cloud left mid-way; answers the status to report meanwhile.

        Checked again under the lock with fresh reads: an operation of this process that has just
        settled looks interrupted to a reader that loaded the stack before it settled."""
        with self._lock:
            running = self._ops.get(acct.key(name))
            if running is not None:
                return running.status
            record, state = acct.stack(name, fresh=True)
            if not _interrupted(record, state):
                return acct.settled_status(record, state)
            record = record or acct.adopt(name, state)
            interrupted = record.operation or (str(state.status).removesuffix("_IN_PROGRESS") if state else "")
            kind, status = {"DELETE": ("DELETE", "DELETE_IN_PROGRESS"),
                            "CREATE": ("DELETE", "ROLLBACK_IN_PROGRESS")}.get(interrupted,
                                                                             ("ROLLBACK", "UPDATE_ROLLBACK_IN_PROGRESS"))
            op = self._ops[acct.key(name)] = Operation(kind, status)
            self._states.pop(acct.key(name), None)
        op.events.append(acct.event(record, name, "AWS::CloudFormation::Stack", status,
                                    reason="The operation was interrupted (the local cloud stopped)"))
        if interrupted == "CREATE":
            run = lambda: self._roll_back_create(acct, record, op)  # noqa: E731
        elif interrupted == "DELETE":
            run = lambda: self._delete(acct, record, op)  # noqa: E731
        else:
            run = lambda: self._roll_back_update(acct, record, op, state)  # noqa: E731
        self._start(acct, record, op, run)
        return status

    def _roll_back_update(self, acct: Account, record: StackRecord, op: Operation, state: StackState | None) -> None:
        """Finish the cut update first (the provisioner redoes an interrupted deploy, so its state matches
        the resources again: an update is only recorded at the next save), then deploy the previous template."""
        if state is not None:
            try:
                acct.provisioner(self._sink(acct, record, op)).deploy(record.name, state.template, state.parameters)
            except ProvisionerError:
                pass  # it rolled itself back to its recorded state; the previous template follows either way
        body = record.previous_body or record.template_body or json.dumps(state.template if state else {})
        params = record.previous_parameters or (dict(state.parameters) if state else {})
        record.template_body = body
        self._deploy(acct, record, op, json.loads(body), params)

    def _roll_back_create(self, acct: Account, record: StackRecord, op: Operation) -> None:
        try:
            acct.provisioner(self._sink(acct, record, op)).delete(record.name)
            record.status, record.reason = "ROLLBACK_COMPLETE", "the create was interrupted; it was rolled back"
        except ProvisionerError as exc:
            record.status, record.reason = "ROLLBACK_FAILED", str(exc)
        op.events.append(acct.event(record, record.name, "AWS::CloudFormation::Stack", record.status,
                                    reason=record.reason))
        self._settle(acct, record, op)


class _Claim:
    """Registers an operation for a stack, refusing a second one (context manager)."""

    def __init__(self, cfn: CloudFormation, key: tuple[str, str, str], op: Operation) -> None:
        self.cfn, self.key, self.op = cfn, key, op

    def __enter__(self) -> Operation:
        with self.cfn._lock:
            running = self.cfn._ops.get(self.key)
            if running is not None:
                raise validation(f"Stack:{self.key[2]} is in {running.status} state and can not be updated.")
            self.cfn._ops[self.key] = self.op
            self.cfn._states.pop(self.key, None)
        return self.op

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if exc is not None and self.op.thread is None:
            with self.cfn._lock:
                self.cfn._ops.pop(self.key, None)


class Account:
    """One caller's account and region: its records, its provisioner, and the stack views."""

    def __init__(self, cfn: CloudFormation, account: str, region: str) -> None:
        self.cfn, self.account, self.region = cfn, account, region
        self.records = RecordStore(self.client("s3"), account_id=account, region=region)

    def client(self, service: str) -> Any:
        return self.cfn.client_for(self.account, self.region, service)

    def key(self, name: str) -> tuple[str, str, str]:
        return self.account, self.region, name

    def provisioner(self, on_event: Callable[[ResourceEvent], None] | None = None) -> Provisioner:
        return Provisioner(self.client, account_id=self.account, region=self.region, on_event=on_event,
                           checkpoints=self.cfn.checkpoints)

    def new_stack_id(self, name: str) -> str:
        return f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{name}/{new_uuid()}"

    def stack(self, name: str, *, fresh: bool = False) -> tuple[StackRecord | None, StackState | None]:
        """The stack's record and provisioner state; `fresh` reads the state again."""
        key = self.key(name)
        if fresh or key not in self.cfn._states:
            self.cfn._states[key] = self.provisioner().describe(name)
        return self.records.stack(name), self.cfn._states[key]

    def stack_names(self) -> list[str]:
        return sorted(set(self.records.stack_names()) | {s.name for s in self.provisioner().list_stacks()})

    def adopt(self, name: str, state: StackState | None) -> StackRecord:
        """A record for a stack the provisioner deployed without this API (an older local cloud)."""
        stack_id = state.stack_id if state and state.stack_id else self.new_stack_id(name)
        return StackRecord(name=name, stack_id=stack_id, created=state.updated_at if state else now(),
                           template_body=json.dumps(state.template) if state else "")

    def status(self, name: str, record: StackRecord | None, state: StackState | None) -> str:
        """The status CloudFormation reports ("" when there is no such stack)."""
        op = self.cfn._ops.get(self.key(name))
        if op is not None:
            return op.status
        if _interrupted(record, state):
            return self.cfn.recover(self, name)
        return self.settled_status(record, state)

    @staticmethod
    def settled_status(record: StackRecord | None, state: StackState | None) -> str:
        if record is not None and record.status:
            return record.status
        return str(state.status) if state is not None else ""

    def describe(self, name: str, record: StackRecord, state: StackState | None, status: str) -> dict[str, Any]:
        template = state.template if state else {}
        outputs = []
        for key, value in sorted((state.outputs if state else {}).items()):
            spec = template.get("Outputs", {}).get(key, {})
            export = next((n for n, v in (state.exports if state else {}).items()
                           if v == value and "Export" in spec), None)
            outputs.append(_clean({"OutputKey": key, "OutputValue": value, "Description": spec.get("Description"),
                                   "ExportName": export}))
        updated = state.updated_at if state else ""
        return _clean({
            "StackId": record.stack_id, "StackName": name, "Description": record.description or None,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v}
                           for k, v in sorted((state.parameters if state else {}).items())],
            "CreationTime": _time(record.created), "LastUpdatedTime": _time(updated) if updated else None,
            "StackStatus": status, "StackStatusReason": (record.reason or (state.reason if state else "")) or None,
            "DisableRollback": False, "Capabilities": record.capabilities, "Outputs": outputs, "Tags": record.tags,
            "EnableTerminationProtection": record.termination_protection,
            "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        })

    def event(self, record: StackRecord, logical_id: str, resource_type: str, status: str, *,
              physical_id: str = "", reason: str = "") -> dict[str, Any]:
        if logical_id == record.name:
            physical_id = record.stack_id
        return {"StackId": record.stack_id, "EventId": str(new_uuid()), "StackName": record.name,
                "LogicalResourceId": logical_id, "PhysicalResourceId": physical_id, "ResourceType": resource_type,
                "Timestamp": now(), "ResourceStatus": status, "ResourceStatusReason": reason}

    def find_change_set(self, name_or_id: str, stack: str | None) -> ChangeSet:
        if name_or_id.startswith("arn:"):
            cs_name = name_or_id.split(":changeSet/", 1)[-1].split("/", 1)[0]
            stacks = [stack] if stack else self.records.stack_names()
            for stack_name in stacks:
                found = self.records.change_set(_plain_name(stack_name), cs_name)
                if found is not None and found.change_set_id == name_or_id:
                    return found
        elif stack:
            found = self.records.change_set(_plain_name(stack), name_or_id)
            if found is not None:
                return found
        else:
            raise validation("StackName must be specified if ChangeSetName is not specified as an ARN.")
        raise ApiError("ChangeSetNotFound", f"ChangeSet [{name_or_id}] does not exist", 404)

    def template_of(self, p: dict[str, Any], record: StackRecord | None) -> tuple[str, dict[str, Any]]:
        if p.get("TemplateBody"):
            body = p["TemplateBody"]
        elif p.get("TemplateURL"):
            body = self.fetch_url(p["TemplateURL"])
        elif p.get("UsePreviousTemplate") and record is not None:
            body = record.template_body
        else:
            raise validation("Either Template URL or Template Body must be specified.")
        try:
            template = json.loads(body)
        except ValueError:
            template = _yaml(body)
        try:
            parse_template(template)
        except ProvisionerError as exc:
            raise validation(str(exc) if str(exc).startswith("Template") else f"Template format error: {exc}") from exc
        return body, template

    def fetch_url(self, url: str) -> str:
        """An object of the local S3, named by any of S3's URL forms."""
        parsed = urlparse(url)
        host, path = parsed.netloc.split(":")[0], unquote(parsed.path.lstrip("/"))
        if ".s3" in host and not host.startswith("s3"):
            bucket, key = host.split(".s3", 1)[0], path
        else:
            bucket, _, key = path.partition("/")
        try:
            return self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        except Exception as exc:
            raise validation(f"TemplateURL must reference a valid S3 object to which you have access: {url}") from exc


def _interrupted(record: StackRecord | None, state: StackState | None) -> bool:
    """An operation is recorded as running but no thread of this process runs it (checked by the caller)."""
    if record is not None and record.operation:
        return True
    return state is not None and str(state.status).endswith("_IN_PROGRESS")


def _plain_name(stack: str) -> str:
    return stack.split(":stack/", 1)[1].split("/", 1)[0] if stack.startswith("arn:") else stack


def _stack_name(p: dict[str, Any]) -> str:
    name = _plain_name(p.get("StackName") or "")
    if not NAME.match(name):
        raise validation(f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy "
                         f"constraint: Member must satisfy regular expression pattern: {NAME.pattern}")
    return name


def _parameters(p: dict[str, Any], state: StackState | None) -> dict[str, str]:
    values = {}
    for item in p.get("Parameters", []):
        key = item["ParameterKey"]
        if item.get("UsePreviousValue"):
            if state is None or key not in state.parameters:
                raise validation(f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as true "
                                 "for a parameter key not in the previous template")
            values[key] = state.parameters[key]
        else:
            values[key] = item.get("ParameterValue", "")
    return values


def _iam_types(template: dict[str, Any]) -> set[str]:
    return {r.get("Type", "") for r in template.get("Resources", {}).values() if r.get("Type") in IAM_TYPES}


def _capabilities(template: dict[str, Any]) -> list[str]:
    resources = template.get("Resources", {}).values()
    if any(IAM_NAMES.get(r.get("Type", "")) in (r.get("Properties") or {}) for r in resources):
        return ["CAPABILITY_NAMED_IAM"]
    return ["CAPABILITY_IAM"] if _iam_types(template) else []


def _check_capabilities(template: dict[str, Any], given: list[str]) -> None:
    needed = _capabilities(template)
    if needed and needed[0] not in given:
        raise ApiError("InsufficientCapabilitiesException", f"Requires capabilities : [{needed[0]}]")


def _valid_policy(body: str) -> str:
    try:
        stack_policy.parse(body)
    except ValueError as exc:
        raise validation(f"Stack policy is not valid: {exc}") from exc
    return body


def _change(change: Any) -> dict[str, Any]:
    action = {"ADD": "Add", "MODIFY": "Modify", "REPLACE": "Modify", "REMOVE": "Remove"}[str(change.action)]
    replaced = change.action is Action.REPLACE
    details = [{"Target": {"Attribute": "Properties", "Name": name,
                           "RequiresRecreation": "Always" if name == change.replacement_property else "Never"},
                "Evaluation": "Static", "ChangeSource": "DirectModification"} for name in change.changed_properties]
    resource: dict[str, Any] = {"Action": action, "LogicalResourceId": change.logical_id,
                                "ResourceType": change.resource_type}
    if change.physical_id:
        resource["PhysicalResourceId"] = change.physical_id
    if action == "Modify":
        resource["Replacement"] = "True" if replaced else "False"
        resource["Scope"] = ["Properties"] if details else ["Metadata"]
        resource["Details"] = details
    return {"Type": "Resource", "ResourceChange": resource}


def _resource_out(record: StackRecord, r: Any, state: StackState | None) -> dict[str, Any]:
    status = "UPDATE_COMPLETE" if state is not None and str(state.status).startswith("UPDATE") else "CREATE_COMPLETE"
    return {"StackName": record.name, "StackId": record.stack_id, "LogicalResourceId": r.logical_id,
            "PhysicalResourceId": r.physical_id, "ResourceType": r.type,
            "Timestamp": _time(state.updated_at if state and state.updated_at else record.created),
            "ResourceStatus": status, "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"}}


def _event_out(event: dict[str, Any]) -> dict[str, Any]:
    return _clean({**event, "Timestamp": _time(event["Timestamp"]),
                   "ResourceStatusReason": event.get("ResourceStatusReason") or None,
                   "PhysicalResourceId": event.get("PhysicalResourceId") or None})


def _failed_status(kind: str) -> str:
    return {"CREATE": "ROLLBACK_COMPLETE", "UPDATE": "UPDATE_ROLLBACK_COMPLETE", "DELETE": "DELETE_FAILED"}.get(
        kind, "UPDATE_ROLLBACK_FAILED")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _clean(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v is not None}


def _yaml(body: str) -> dict[str, Any]:
    import yaml  # moto depends on PyYAML

    try:
        loaded = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise validation(f"Template format error: {exc}") from exc
    if not isinstance(loaded, dict):
        raise validation("Template format error: the template is not a JSON or YAML object")
    return loaded
