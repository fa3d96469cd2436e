"""How the commands that change a stage (deploy, promote, rollback, remove) are wired, written once.

Data flow: `@shipping_command` gives a Typer command the shared flags (--yes, --json, --local,
--force-unlock) and hands them to it as one `ShipFlags`; the command opens its stage(s), checks
what it must (`require_secrets`), then calls `ship_and_report(st, flags, command=…, run=…)`, which
builds the reporter, the confirming prompt and the Runner, breaks a stale lock when asked, runs
`run(runner)` and prints the result and exits with its code (console.finish).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from stagewise.options import ForceUnlockOption, JsonOption, LocalOption, YesOption

if TYPE_CHECKING:  # the pipeline is imported when a command runs, not when the CLI registers its commands
    from stagewise.pipeline.runner import Runner, RunResult, StageTarget


@dataclass(frozen=True)
class ShipFlags:
    yes: bool = False
    as_json: bool = False
    local: bool = False
    force_unlock: bool = False


_OPTIONS = {"yes": YesOption, "as_json": JsonOption, "local": LocalOption, "force_unlock": ForceUnlockOption}


def shipping_command(func: Callable[..., None]) -> Callable[..., None]:
    """Add the shared flags to a command whose last parameter is `flags: ShipFlags`.

    Typer reads the wrapper's signature: the command's own parameters, then the four flags.
    """
    own = inspect.signature(func, eval_str=True)
    params = [p for p in own.parameters.values() if p.name != "flags"]
    added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=False, annotation=annotation)
             for name, annotation in _OPTIONS.items()]

    @functools.wraps(func)
    def command(*args: Any, **kwargs: Any) -> None:
        flags = ShipFlags(**{f.name: kwargs.pop(f.name, False) for f in fields(ShipFlags)})
        func(*args, flags=flags, **kwargs)

    command.__signature__ = own.replace(parameters=[*params, *added])  # type: ignore[attr-defined]
    return command


def ship_and_report(
    st: StageTarget,
    flags: ShipFlags,
    *,
    command: str,
    run: Callable[[Runner], RunResult],
    question: str = "Apply this plan?",
) -> None:
    """Run one shipping flow on `st` with the shared prompt, progress and result; exits with its code."""
    from stagewise.pipeline.console import (
        api_url,
        confirmer,
        domain_url,
        finish,
        reporter_for,
        unlock_confirmer,
    )
    from stagewise.pipeline.history import Kind
    from stagewise.pipeline.runner import Runner, RunState

    reporter = reporter_for(flags.as_json)
    confirm = confirmer(yes=flags.yes, as_json=flags.as_json, reporter=reporter, question=question)
    runner = Runner(st, reporter=reporter, confirm=confirm, command=command)
    if flags.force_unlock:
        runner.force_unlock(unlock_confirmer(flags.yes))
    result = run(runner)
    live = result.state is RunState.SUCCEEDED and result.kind is not Kind.REMOVE
    stacks = [o.stack for o in result.outcomes]
    url = api_url(st.provider, stacks) if live else None
    domain = domain_url(st.provider, stacks) if live else None
    finish(result, as_json=flags.as_json, reporter=reporter, endpoint=st.target.endpoint, url=url, domain=domain)


def require_secrets(st: StageTarget) -> None:
    """Stop before anything changes when a secret the stage's services declare is missing."""
    from stagewise.secrets import SecretStore
    from stagewise.stacks.render import declared_secrets

    SecretStore(st.target.client("ssm"), st.project.app.name).resolve(st.stage, declared_secrets(st.project, st.stage))
