"""`stagewise cloud start|stop|status|reset|env`: manage the local cloud (a durable moto server).

Data flow: options → `LocalCloud(state_dir, port)` (state dir from --state-dir, else
STAGEWISE_STATE_DIR, else `<project>/.stagewise/cloud`) → one line of output; `env` prints the
variables that make any AWS SDK or CLI act as one simulated account of stagewise.toml there.
Exit codes: 0 done, 1 `status` found it stopped, 2 usage/config error (or `env` with no cloud
running), 3 port busy.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated

import typer

from stagewise.cloud import LocalCloud, default_state_dir
from stagewise.errors import UserError

PortOption = Annotated[
    int | None,
    typer.Option("--port", "-p", help="Loopback port (default: the last one used, else 4566).", min=1, max=65535),
]
StateDirOption = Annotated[
    Path | None,
    typer.Option(
        "--state-dir",
        help="Where the journal lives (default: STAGEWISE_STATE_DIR, else <project>/.stagewise/cloud).",
        file_okay=False,
    ),
]

cloud_app = typer.Typer(
    help="The local cloud: AWS APIs (moto) on loopback, durable across restarts.\n\n"
    "Example:  stagewise cloud start        (serves http://127.0.0.1:4566)",
    no_args_is_help=True,
)


def _cloud(port: int | None, state_dir: Path | None) -> LocalCloud:
    return LocalCloud(state_dir or default_state_dir(), port)


@cloud_app.command(
    help="Start the local cloud in the background (no-op if it already runs).\n\n"
    "Example:  stagewise cloud start --port 4566"
)
def start(port: PortOption = None, state_dir: StateDirOption = None) -> None:
    status = _cloud(port, state_dir).start()
    typer.echo(f"local cloud running at {status.endpoint} (pid {status.pid}, {status.journal_entries} journal entries)")


@cloud_app.command(help="Stop the local cloud; its state is kept.\n\nExample:  stagewise cloud stop")
def stop(port: PortOption = None, state_dir: StateDirOption = None) -> None:
    cloud = _cloud(port, state_dir)
    typer.echo("local cloud stopped" if cloud.stop() else f"local cloud for {cloud.state_dir} was not running")


@cloud_app.command(
    help="Show whether the local cloud runs, its pid, endpoint and journal size.\n\n"
    "Example:  stagewise cloud status     (exit code 1 when stopped)"
)
def status(port: PortOption = None, state_dir: StateDirOption = None) -> None:
    current = _cloud(port, state_dir).status()
    pid = current.pid if current.pid is not None else "-"
    typer.echo(
        f"{current.state.value}  pid {pid}  endpoint {current.endpoint}  "
        f"journal {current.journal_entries} entries  state {current.state_dir}"
    )
    if not current.running:
        raise typer.Exit(1)


@cloud_app.command(
    help="Delete everything in the local cloud (tables, buckets, users, ...). A running cloud restarts empty.\n\n"
    "Example:  stagewise cloud reset --yes"
)
def reset(
    port: PortOption = None,
    state_dir: StateDirOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    cloud = _cloud(port, state_dir)
    if not yes and not typer.confirm(f"Delete all local cloud state in {cloud.state_dir}?"):
        typer.echo("reset cancelled; nothing was deleted")
        raise typer.Exit(1)
    cloud.reset()
    typer.echo(f"local cloud state in {cloud.state_dir} wiped")


@cloud_app.command(
    help="Print the export lines that make any AWS SDK or the AWS CLI act as one simulated account "
    "(an account of stagewise.toml; default: the local stage's) on the running local cloud.\n\n"
    "Example:  eval \"$(stagewise cloud env)\"\n\n"
    "then:     aws cloudformation describe-stacks   (any SDK or CLI acts as it)\n\n"
    "Example:  stagewise cloud env --account prod --json"
)
def env(
    account: Annotated[str | None, typer.Option(
        "--account", "-a", help="An account name from stagewise.toml's accounts (default: the local stage's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the same values as one JSON object.")] = False,
    port: PortOption = None,
    state_dir: StateDirOption = None,
) -> None:
    from stagewise.config import LOCAL_STAGE, load_project

    project = load_project()
    local = project.stage(LOCAL_STAGE)
    name = account or local.account
    if name not in project.accounts:
        known = ", ".join(sorted(project.accounts)) or "(none defined)"
        raise UserError(f"no account '{name}' in {project.file}; known accounts: {known}")
    current = _cloud(port, state_dir).status()
    if not current.running:
        raise UserError(f"the local cloud ({current.state_dir}) is not running; start it with `stagewise cloud start`")
    values = account_env(current.endpoint, project.accounts[name].id, local.region)
    if as_json:
        typer.echo(json.dumps(values, indent=2))
    else:
        typer.echo("\n".join(f"export {key}={shlex.quote(value)}" for key, value in values.items()))


def account_env(endpoint: str, account_id: str, region: str) -> dict[str, str]:
    """AWS_ENDPOINT_URL, the account's keys (and session token), AWS_REGION and AWS_DEFAULT_REGION."""
    from stagewise.cloud import credentials

    keys = {k: v for k, v in credentials(endpoint, account_id).items() if v}
    return {"AWS_ENDPOINT_URL": endpoint, **keys, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}


def register(app: typer.Typer) -> None:
    app.add_typer(cloud_app, name="cloud")
