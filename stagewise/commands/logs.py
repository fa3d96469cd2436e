"""`stagewise logs FUNCTION [--stage S] [--follow] [--since 10m] [--trace ID] [--json]`: a function's log lines.

Data flow: a local stage → the lines `stagewise dev` kept per function (stagewise/tracing/logs.py), the
function named by logical id or deployed name; any other stage → CloudWatch Logs `FilterLogEvents` on
`/aws/lambda/<name>` with the stage's credentials, the name found in the stage's stacks. Structured
(JSON) lines print as `time LEVEL message key=value…`; `--trace` keeps one request's lines.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from typing import Annotated

import typer

from stagewise.errors import UserError
from stagewise.options import LocalOption, SetOption

LOCAL_POLL_S = 0.5


def logs(
    function: Annotated[str, typer.Argument(help="Function logical id (e.g. CreatePurchase) or deployed name.")],
    stage: Annotated[str, typer.Option("--stage", "-s", help="Stage name; local reads stagewise dev's logs.")] = "local",
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C.")] = False,
    since: Annotated[str | None, typer.Option("--since", help="Only lines within, e.g. 10m, 2h.")] = None,
    trace: Annotated[str | None, typer.Option("--trace", help="Only the lines of this trace id (1-…).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line: time, function, trace_id, "
                                          "record (the parsed structured line), line.")] = False,
    local: LocalOption = False,
    set_: SetOption = None,
) -> None:
    """Print a function's log lines: level, time, message and the extra keys.

    Example:  stagewise logs CreatePurchase --since 10m --trace 1-5f84c7a9-0a2b3c4d5e6f7a8b9c0d1e2f
    """
    from stagewise.options import load_stage
    from stagewise.target import target_for, wants_local
    from stagewise.tracing.since import since_epoch

    window = since_epoch(since)
    project, config = load_stage(stage, set_)
    if wants_local(stage, local):
        _print(_local_lines(function, config.name, window, trace, follow), as_json)
        return
    target = target_for(project, config, local=False)
    name = _deployed_name(target.client("cloudformation"), project, config, function)
    _print(_aws_lines(target.client("logs"), name, window, trace, follow), as_json)


def _print(lines: Iterable, as_json: bool) -> None:
    for line in lines:
        print(json.dumps(line.as_dict()) if as_json else line.pretty(), flush=True)


def _local_lines(function: str, stage: str, since: float | None, trace: str | None, follow: bool):
    from stagewise.cloud import default_state_dir
    from stagewise.tracing.local import LocalTracing

    store = LocalTracing.for_stage(default_state_dir(), stage).logs
    logical_id = store.resolve(function)
    if logical_id is None and not follow:
        known = ", ".join(sorted(store.functions())) or "none yet: call the API under `stagewise dev` first"
        raise UserError(f"no logs of function '{function}' in stage {stage} (functions with logs: {known})",
                        exit_code=1)
    if logical_id is None:  # following a function that has not run yet: wait for its first line
        print(f"waiting for the first lines of '{function}' (a logical id or a deployed name)", file=sys.stderr)
        while logical_id is None:
            time.sleep(LOCAL_POLL_S)
            logical_id = store.resolve(function)
    seen = 0
    while True:
        lines = store.read(logical_id, since=since, trace=trace)
        yield from lines[seen:] if len(lines) >= seen else lines
        seen = len(lines)
        if not follow:
            return
        time.sleep(LOCAL_POLL_S)


def _aws_lines(client, name: str, since: float | None, trace: str | None, follow: bool):
    from stagewise.tracing import aws

    group = f"/aws/lambda/{name}"
    if follow:
        return aws.follow(client, group=group, function=name, since=since, trace=trace)
    return aws.log_lines(client, group=group, function=name, since=since, trace=trace)


def _deployed_name(cloudformation, project, config, function: str) -> str:
    """The FunctionName of `function` (a logical id or a name) in the stage's stacks."""
    from stagewise.stacks.naming import stack_name
    from stagewise.tracing.aws import call

    prefix = stack_name(project, config, "")
    kwargs = {"StackStatusFilter": ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]}
    stacks = []
    while True:
        page = call("cloudformation", "ListStacks", cloudformation.list_stacks, **kwargs)
        stacks += [s["StackName"] for s in page["StackSummaries"] if s["StackName"].startswith(prefix)]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    for stack in stacks:
        reply = call("cloudformation", "DescribeStackResources", cloudformation.describe_stack_resources,
                      StackName=stack)
        for resource in reply["StackResources"]:
            if resource["ResourceType"] == "AWS::Lambda::Function" and function in (
                    resource["LogicalResourceId"], resource.get("PhysicalResourceId")):
                return resource["PhysicalResourceId"]
    raise UserError(f"no function '{function}' in stage {config.name}'s stacks; give its logical id or name",
                    exit_code=1)


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)
