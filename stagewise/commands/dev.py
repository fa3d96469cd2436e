"""`stagewise dev`: the whole app on this machine — local cloud, provisioned stacks, API on loopback."""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.options import SetOption


def dev(
    stage: Annotated[str, typer.Option("--stage", "-s", help="Stage to run locally.")] = "local",
    port: Annotated[int, typer.Option("--port", "-p", help="Port for the local API.")] = 3000,
    cloud_port: Annotated[
        int | None, typer.Option(help="Port for the local cloud (default: its last port, else 4566).")
    ] = None,
    watch: Annotated[bool, typer.Option(help="Reload handlers when files change.")] = True,
    keep_cloud: Annotated[
        bool, typer.Option(help="Leave the local cloud running on exit, so the next start skips its boot.")
    ] = False,
    set_: SetOption = None,
) -> None:
    """Run the app locally: no Docker, no AWS account. Ctrl-C stops it; local data is kept.

    Example:  stagewise dev --port 3000
    """
    from stagewise.devsession import DevSession

    session = DevSession.create(
        stage=stage, port=port, cloud_port=cloud_port, watch=watch, overrides=set_, keep_cloud=keep_cloud
    )
    session.run_forever()


def register(app: typer.Typer) -> None:
    app.command("dev")(dev)
