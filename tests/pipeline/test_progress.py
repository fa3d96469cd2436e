"""Progress output: plain lines for logs, a live table on a terminal, the plan text (no I/O)."""

from __future__ import annotations

import io

from rich.console import Console

from stagewise.pipeline.executor import Outcome, StackOutcome
from stagewise.pipeline.history import Kind
from stagewise.pipeline.order import Op, Step
from stagewise.pipeline.planner import Decision, PlannedStack, StagePlan
from stagewise.pipeline.progress import LineProgress, LiveProgress
from stagewise.pipeline.runner import RunResult, RunState
from stagewise.pipeline.show import plan_lines, result_lines
from stagewise.providers.base import Action, ResourceChange, StackEvent, StackPlan

API = Step("dev-a-api", Op.DEPLOY, 1, frozenset({"dev-a-infra"}))
INFRA = Step("dev-a-infra", Op.DEPLOY, 0, frozenset())
PLAN = StagePlan("dev", (
    (PlannedStack(INFRA, Decision.SKIP, None),),
    (PlannedStack(API, Decision.APPLY, None, StackPlan("dev-a-api", (
        ResourceChange(Action.ADD, "Queue", "AWS::SQS::Queue"),
        ResourceChange(Action.REPLACE, "Table", "AWS::DynamoDB::Table", "KeySchema"),
        ResourceChange(Action.REMOVE, "Old", "AWS::SNS::Topic")), creating=False)),),
))


def test_the_plan_text_lists_every_change_and_the_forcing_property():
    assert plan_lines(PLAN) == [
        "stage dev: 2 stack(s) in 2 phase(s), 1 to change",
        "phase 1",
        "  dev-a-infra: unchanged",
        "phase 2",
        "  dev-a-api: update",
        "    + add     Queue [AWS::SQS::Queue]",
        "    ! replace Table [AWS::DynamoDB::Table] (replacement forced by KeySchema)",
        "    - remove  Old [AWS::SNS::Topic]",
    ]


def test_plain_lines_for_logs():
    out = io.StringIO()
    progress = LineProgress(out)
    progress.started(PLAN.phases[1][0])
    progress.event(StackEvent("dev-a-api", "Queue", "AWS::SQS::Queue", "CREATE_COMPLETE"))
    progress.finished(StackOutcome("dev-a-api", 1, Outcome.FAILED, 1.25, "Queue: boom"))
    assert out.getvalue().splitlines() == [
        "[phase 2] dev-a-api: apply ...",
        "  dev-a-api Queue CREATE_COMPLETE",
        "[phase 2] dev-a-api: failed in 1.2s: Queue: boom",
    ]


def test_a_live_table_row_per_stack_on_a_terminal():
    out = io.StringIO()
    progress = LiveProgress(Console(file=out, force_terminal=True, width=120))
    progress.begin(PLAN)
    progress.started(PLAN.phases[1][0])
    progress.event(StackEvent("dev-a-api", "Queue", "AWS::SQS::Queue", "CREATE_IN_PROGRESS"))
    progress.finished(StackOutcome("dev-a-infra", 0, Outcome.SKIPPED, 0.0, "unchanged"))
    assert progress.rows["dev-a-api"].latest == "Queue CREATE_IN_PROGRESS"
    assert progress.rows["dev-a-api"].status == "running"
    progress.finished(StackOutcome("dev-a-api", 1, Outcome.DEPLOYED, 0.5))
    progress.end()
    text = out.getvalue()
    assert "dev-a-api" in text and "deployed" in text and "dev-a-infra" in text and "skipped" in text


def test_the_result_json_is_what_scripts_read():
    result = RunResult("dev", Kind.DEPLOY, RunState.FAILED, "b-1", (
        StackOutcome("dev-a-infra", 0, Outcome.DEPLOYED, 0.2),
        StackOutcome("dev-a-api", 1, Outcome.NOT_RUN, 0.0, "not run: dev-a-infra failed")))
    assert result.exit_code == 1
    assert result.to_json()["stacks"][1] == {"stack": "dev-a-api", "phase": 2, "outcome": "not-run",
                                             "seconds": 0.0, "reason": "not run: dev-a-infra failed"}
    assert result_lines(result)[0] == "deploy dev: failed (build b-1)"
