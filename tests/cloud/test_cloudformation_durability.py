"""The local CloudFormation across restarts and kill -9: what it acknowledged is still there, and a
stack operation the kill cut short is rolled back (create, update) or finished (delete) by the
cloud that comes up next — never left stuck."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

from stagewise.cloud import LocalCloud
from stagewise.providers.cloudformation import LOCAL, CloudFormationProvider
from tests.cloud.conftest import make_client
from tests.cloud.test_durability import kill_and_restart, restart_killed

COUNT = 80  # parameters per stack: enough that a kill lands mid-operation, with margin


def params(stack: str, value: str, count: int = COUNT) -> dict[str, Any]:
    resources = {f"P{i}": {"Type": "AWS::SSM::Parameter",
                           "Properties": {"Name": f"/{stack}/p{i}", "Type": "String", "Value": value}}
                 for i in range(count)}
    return {"Resources": resources}


def settled(cfn: Any, stack: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not found["StackStatus"].endswith("_IN_PROGRESS"):
            return found
        time.sleep(0.05)
    raise AssertionError(f"{stack} did not settle")


def kill_midway(cloud: LocalCloud, events_of: Any, done: str) -> None:
    """SIGKILL the server as soon as some, not all, of the operation's resources are `done`, then start it
    again. The kill is the very next step after the events are read: with a status call (HTTP) in
    between, a fast operation could finish first."""
    pid = cloud.status().pid
    assert pid is not None
    for _ in range(2000):
        finished = sum(1 for e in events_of() if e["ResourceStatus"] == done)
        if finished >= 3:
            os.kill(pid, signal.SIGKILL)
            assert finished < COUNT, "the operation ended before the kill: raise COUNT"
            restart_killed(cloud, pid)
            return
        time.sleep(0.005)
    raise AssertionError("no progress")


def execute_until_midway(cloud: LocalCloud, cfn: Any, stack: str, template: dict[str, Any], kind: str) -> None:
    """Start a change set and kill the server once some, not all, of its resources are done."""
    made = cfn.create_change_set(StackName=stack, ChangeSetName="c" + str(time.time_ns()), ChangeSetType=kind,
                                 TemplateBody=json.dumps(template))
    cfn.execute_change_set(ChangeSetName=made["Id"])
    done = "CREATE_COMPLETE" if kind == "CREATE" else "UPDATE_COMPLETE"
    kill_midway(cloud, lambda: [e for e in cfn.describe_stack_events(StackName=stack)["StackEvents"]
                                if e["LogicalResourceId"] != stack], done)


def ssm_values(cloud: LocalCloud, stack: str) -> dict[str, str]:
    ssm = make_client(cloud, "ssm")
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=f"/{stack}", Recursive=True)
    found = [p for page in pages for p in page["Parameters"]]
    return {p["Name"]: p["Value"] for p in found}


def test_stacks_change_sets_events_and_guards_survive_a_restart(cloud: LocalCloud) -> None:
    cfn = make_client(cloud, "cloudformation")
    stack_id = cfn.create_stack(StackName="kept", TemplateBody=json.dumps(params("kept", "v", 2)),
                                EnableTerminationProtection=True, Tags=[{"Key": "stage", "Value": "dev"}])["StackId"]
    settled(cfn, "kept")
    cfn.set_stack_policy(StackName="kept", StackPolicyBody='{"Statement":[{"Effect":"Allow","Action":"Update:*",'
                                                           '"Principal":"*","Resource":"*"}]}')
    pending = cfn.create_change_set(StackName="kept", ChangeSetName="later", TemplateBody=json.dumps(
        params("kept", "w", 2)))["Id"]
    events_before = len(cfn.describe_stack_events(StackName="kept")["StackEvents"])

    kill_and_restart(cloud)

    cfn = make_client(cloud, "cloudformation")
    stack = cfn.describe_stacks(StackName="kept")["Stacks"][0]
    assert (stack["StackId"], stack["StackStatus"], stack["EnableTerminationProtection"]) == (
        stack_id, "CREATE_COMPLETE", True)
    assert stack["Tags"] == [{"Key": "stage", "Value": "dev"}]
    assert "Update:*" in cfn.get_stack_policy(StackName="kept")["StackPolicyBody"]
    assert len(cfn.describe_stack_events(StackName="kept")["StackEvents"]) == events_before
    assert cfn.describe_change_set(ChangeSetName=pending)["Status"] == "CREATE_COMPLETE"
    cfn.execute_change_set(ChangeSetName=pending)
    assert settled(cfn, "kept")["StackStatus"] == "UPDATE_COMPLETE"
    assert set(ssm_values(cloud, "kept").values()) == {"w"}


def test_a_create_cut_short_by_kill_9_is_rolled_back_and_the_next_deploy_creates_it(cloud: LocalCloud) -> None:
    cfn = make_client(cloud, "cloudformation")
    execute_until_midway(cloud, cfn, "cut", params("cut", "v"), "CREATE")

    cfn = make_client(cloud, "cloudformation")
    stack = settled(cfn, "cut")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert ssm_values(cloud, "cut") == {}  # what the cut create made, leftovers included, is gone
    provider = CloudFormationProvider(cfn, polling=LOCAL)
    assert provider.apply(provider.plan("cut", params("cut", "v"), {}), lambda e: None).ok
    assert len(ssm_values(cloud, "cut")) == COUNT


def test_an_update_cut_short_by_kill_9_is_rolled_back_to_the_previous_template(cloud: LocalCloud) -> None:
    cfn = make_client(cloud, "cloudformation")
    cfn.create_stack(StackName="upd", TemplateBody=json.dumps(params("upd", "old")))
    settled(cfn, "upd")
    execute_until_midway(cloud, cfn, "upd", params("upd", "new"), "UPDATE")

    cfn = make_client(cloud, "cloudformation")
    assert settled(cfn, "upd")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert set(ssm_values(cloud, "upd").values()) == {"old"}
    body = cfn.get_template(StackName="upd")["TemplateBody"]
    assert json.loads(json.dumps(body))["Resources"]["P0"]["Properties"]["Value"] == "old"


def test_a_delete_cut_short_by_kill_9_is_finished(cloud: LocalCloud) -> None:
    cfn = make_client(cloud, "cloudformation")
    cfn.create_stack(StackName="gone", TemplateBody=json.dumps(params("gone", "v")))
    settled(cfn, "gone")
    cfn.delete_stack(StackName="gone")
    kill_midway(cloud, lambda: cfn.describe_stack_events(StackName="gone")["StackEvents"], "DELETE_COMPLETE")

    cfn = make_client(cloud, "cloudformation")
    deadline = time.monotonic() + 60
    while any(s["StackName"] == "gone" for s in cfn.describe_stacks()["Stacks"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(s["StackName"] == "gone" for s in cfn.describe_stacks()["Stacks"])
    assert ssm_values(cloud, "gone") == {}


OPERATIONS_END = """
import json, os, sys, threading
from pathlib import Path
from stagewise.cloud.accounts import client
from stagewise.cloud.inprocess import in_process
from stagewise.cloud.server import attach_services, build_app

os.environ.pop("MOTO_ACCOUNT_ID", None)
app = build_app(Path(sys.argv[1]))
attach_services(app, "http://127.0.0.1:1")
ended = threading.Semaphore(0)
app.cloudformation.service.on_operation_end = ended.release
cfn = in_process(client("http://127.0.0.1:1", account_id="111111111111", region="us-east-1",
                        service="cloudformation"), app)
good = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "ends"}}}}
table = {"Type": "AWS::DynamoDB::Table", "Properties": {
    "TableName": "twice", "BillingMode": "PAY_PER_REQUEST", "KeySchema": [{"AttributeName": "k", "KeyType": "HASH"}],
    "AttributeDefinitions": [{"AttributeName": "k", "AttributeType": "S"}]}}
bad = {"Resources": {"A": table, "B": table}}  # the second create of one table name fails
reported = []
for name, template in (("good", good), ("bad", bad)):
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template))
    reported.append(ended.acquire(timeout=30))
reported.append(ended.acquire(timeout=0.2))  # a second report for one operation
statuses = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
print(json.dumps({"reported": reported, "statuses": statuses}))
"""


def test_each_stack_operation_tells_the_server_when_it_ends_even_one_that_fails(tmp_path) -> None:
    """The server hands freed memory back after a burst of stack operations (stagewise/memory.py).
    In a process of its own: building the cloud's app patches moto for the whole process."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", OPERATIONS_END, str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["statuses"] == {"good": "CREATE_COMPLETE", "bad": "ROLLBACK_COMPLETE"}
    assert result["reported"] == [True, True, False]  # each operation's end, once
