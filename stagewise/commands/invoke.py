"""`stagewise invoke FUNCTION --event FILE`: run one function of a local stage once, print its result."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from stagewise.errors import UserError
from stagewise.options import SetOption


def read_event(path: Path) -> dict:
    text = sys.stdin.read() if str(path) == "-" else _read(path)
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(event, dict):
        raise UserError(f"{path}: an event is a JSON object, got {type(event).__name__}")
    return event


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise UserError(f"cannot read event file {path}: {exc.strerror}") from exc


def invoke(
    function: Annotated[str, typer.Argument(help="Function logical id (e.g. CreateNote) or its deployed name.")],
    event: Annotated[Path, typer.Option("--event", "-e", help="JSON event file ('-' reads stdin).")],
    stage: Annotated[str, typer.Option("--stage", "-s", help="A local stage.")] = "local",
    set_: SetOption = None,
) -> None:
    """Invoke a function once with an event and print what it returned (as JSON).

    Example:  stagewise invoke ListNotes --event events/list-notes.json
    """
    from stagewise.localstage import connect
    from stagewise.runtime import Runtime, RuntimeModel

    payload = read_event(event)
    local = connect(stage, overrides=set_)
    model = RuntimeModel.from_stacks(local.states(), repo_root=local.project.root)
    with local_stripe_for(model, function, local.endpoint) as model:
        env = {"AWS_ENDPOINT_URL": local.endpoint, **local.credentials()}
        runtime = Runtime(
            model, repo_root=local.project.root, worker_env=env, region=local.region, hot_reload=False,
            log=lambda line: print(line, file=sys.stderr),  # stdout carries only the result
        )
        try:
            result = runtime.invoke(function, payload)
        finally:
            runtime.stop()
    print(json.dumps(result, indent=2))


@contextmanager
def local_stripe_for(model, function: str, endpoint: str):
    """The model as is, or, when the function calls Stripe, with a local Stripe running for it."""
    from stagewise.cloud import default_state_dir
    from stagewise.cloud.layout import STRIPE_DIR
    from stagewise.devsession import STRIPE_KEY_VARIABLE, with_stripe_api_base
    from stagewise.stripe_local import LocalStripe

    if STRIPE_KEY_VARIABLE not in model.function(function).environment:
        yield model
        return
    stripe = LocalStripe(default_state_dir() / STRIPE_DIR)
    try:
        yield with_stripe_api_base(model, stripe.start())
    finally:
        stripe.stop()


def register(app: typer.Typer) -> None:
    app.command("invoke")(invoke)
