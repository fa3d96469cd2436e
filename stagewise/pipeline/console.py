"""What the shipping commands share on the terminal: options, the plan prompt, progress, the result.

Data flow: a command builds a Runner with `reporter_for(json)` and `confirmer(...)`; the runner
calls the confirmer with the StagePlan (it prints the plan and asks, or refuses without a
terminal unless --yes), then reports progress; `finish(result)` prints the result (lines, or
JSON on stdout with --json) and exits with the result's exit code.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

import typer

from stagewise.errors import UserError
from stagewise.pipeline.planner import StagePlan
from stagewise.pipeline.progress import LineProgress, LiveProgress, QuietProgress
from stagewise.pipeline.runner import RunResult
from stagewise.pipeline.show import plan_lines, result_lines
from stagewise.pipeline.store import LockHolder
from stagewise.stacks.domain import DOMAIN_URL

Reporter = LineProgress | LiveProgress


def reporter_for(as_json: bool) -> Reporter:
    if as_json:
        return QuietProgress()
    return LiveProgress() if sys.stderr.isatty() else LineProgress()


def show_plan(plan: StagePlan, *, to_stderr: bool = False) -> None:
    out = sys.stderr if to_stderr else sys.stdout
    for line in plan_lines(plan):
        print(line, file=out)


def confirmer(*, yes: bool, as_json: bool, reporter: Reporter, question: str = "Apply this plan?"):
    def confirm(plan: StagePlan) -> bool:
        show_plan(plan, to_stderr=as_json)
        if not yes:
            if not sys.stdin.isatty():
                raise UserError("the plan above changes the stage; pass --yes to apply it without a terminal to ask on")
            if not typer.confirm(question, default=False, err=True):
                return False
        reporter.begin(plan)
        return True

    return confirm


def unlock_confirmer(yes: bool):
    def confirm(holder: LockHolder) -> bool:
        print(f"the lock is held by {holder.describe()}", file=sys.stderr)
        if yes:
            return True
        if not sys.stdin.isatty():
            raise UserError("--force-unlock asks for confirmation; add --yes to break the lock without a terminal")
        return typer.confirm("Is that run dead? Break its lock?", default=False, err=True)

    return confirm


def api_url(provider: Any, stacks: Iterable[str]) -> str | None:
    """The stage's API URL: the first `…Url` output of its stacks that is an http(s) address (not its domain's)."""
    for stack in sorted(stacks):
        for key, value in provider.outputs(stack).items():
            if key != DOMAIN_URL and key.lower().endswith("url") and str(value).startswith("http"):
                return str(value)
    return None


def domain_url(provider: Any, stacks: Iterable[str]) -> str | None:
    """The stage's API on its custom domain (`https://<domain>/`), when it has one."""
    for stack in sorted(stacks):
        value = provider.outputs(stack).get(DOMAIN_URL)
        if value:
            return str(value)
    return None


def finish(
    result: RunResult, *, as_json: bool, reporter: Reporter, endpoint: str | None = None, url: str | None = None,
    domain: str | None = None,
) -> None:
    reporter.end()
    if as_json:
        print(json.dumps({**result.to_json(), "url": url, "domain_url": domain, "notes": list(reporter.notes)},
                         indent=2))
    else:
        for line in result_lines(result):
            print(line)
        for retained in result.retained:
            print(f"  to delete {retained.logical_id}: {retained.how_to_delete(endpoint)}")
        if url:
            print(f"API  {url}")
        if domain:
            print(f"domain: {domain}")
    raise typer.Exit(int(result.exit_code))
