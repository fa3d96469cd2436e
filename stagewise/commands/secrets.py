"""`stagewise secrets set|list|remove`: per-stage secrets in SSM Parameter Store (never printed)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from stagewise.errors import UserError
from stagewise.options import StageOption

secrets_app = typer.Typer(help="Per-stage secrets (SSM SecureString at /<app>/<stage>/<NAME>).", no_args_is_help=True)
LocalOption = Annotated[bool, typer.Option("--local", help="Use the local cloud (also STAGEWISE_LOCAL=1).")]


def _store(stage: str, local: bool):
    from stagewise.options import load_stage
    from stagewise.secrets import SecretStore
    from stagewise.target import target_for

    project, config = load_stage(stage)
    target = target_for(project, config, local=local)
    return SecretStore(target.client("ssm"), project.app.name), config


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        return typer.prompt(f"Value for {name}", hide_input=True)
    value = sys.stdin.read().rstrip("\n")
    if not value:
        raise UserError(f"no value for {name} on stdin; pipe it in or run in a terminal to be prompted")
    return value


@secrets_app.command("set")
def set_secret(
    name: Annotated[str, typer.Argument(help="UPPER_SNAKE_CASE name, e.g. API_KEY.")],
    stage: StageOption,
    value: Annotated[
        str | None, typer.Option("--value", help="For CI only: the value (lands in shell history otherwise).")
    ] = None,
    local: LocalOption = False,
) -> None:
    """Set a secret; the value comes from a hidden prompt or stdin.

    Example:  stagewise secrets set API_KEY --stage dev < key.txt
    """
    store, config = _store(stage, local)
    parameter = store.set(config.name, name, value if value is not None else _read_value(name))
    print(f"set {name} for stage {config.name} ({parameter})")


@secrets_app.command("list")
def list_secrets(stage: StageOption, local: LocalOption = False) -> None:
    """List a stage's secrets: names and last-modified times, never values.

    Example:  stagewise secrets list --stage pr-42
    """
    store, config = _store(stage, local)
    visible = store.visible(config)
    if not visible:
        print(f"stage {config.name} has no secrets")
    for info in visible.values():
        when = info.last_modified.isoformat(timespec="seconds") if info.last_modified else "-"
        origin = f"(from {info.inherited_from})" if info.inherited_from else ""
        print(f"{info.name:<32} {when:<26} {origin}".rstrip())


@secrets_app.command("remove")
def remove_secret(
    name: Annotated[str, typer.Argument(help="The secret's name.")], stage: StageOption, local: LocalOption = False
) -> None:
    """Remove a stage's own secret (an inherited one stays with its stage).

    Example:  stagewise secrets remove API_KEY --stage pr-42
    """
    store, config = _store(stage, local)
    store.remove(config.name, name)
    print(f"removed {name} from stage {config.name}")


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")
