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
    with local_standins_for(local, model, function) as model:
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
def local_standins_for(local, model, function: str):
    """The model with the local stand-ins the function calls running for it (stagewise/standins.py)."""
    from dataclasses import replace

    from stagewise.cloud import default_state_dir
    from stagewise.standins import LocalStandin, reads_secret, standin_dir, with_urls

    spec = model.function(function)
    started: list[LocalStandin] = []
    try:
        for name, settings in local.project.standins.items():
            if reads_secret(spec, settings.secret):
                standin = LocalStandin(name, settings, root=local.project.root,
                                       state_dir=standin_dir(default_state_dir(), name))
                started.append(standin)
                standin.start()
        yield replace(model, functions=with_urls(model.functions, started))
    finally:
        for standin in started:
            standin.stop()


def register(app: typer.Typer) -> None:
    app.command("invoke")(invoke)
