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
    tracing: Annotated[
        bool, typer.Option(help="Collect traces (a local X-Ray daemon; stagewise traces). Function logs are kept either way.")
    ] = True,
    set_: SetOption = None,
) -> None:
    """Run the app locally: no Docker, no AWS account. Ctrl-C stops it; local data is kept.

    Example:  stagewise dev --port 3000
    """
    from stagewise.cloud import LocalCloud, default_state_dir
    from stagewise.net import check_port_free

    check_port_free(port)
    cloud = LocalCloud(default_state_dir(), port=cloud_port)
    # the cloud boots (~0.7 s) while the config is read and the rest of dev imported; unless it is to
    # be kept, it stops with dev, even a dev killed outright
    started = cloud.begin(tied=not keep_cloud)
    try:
        from stagewise.options import load_stage

        project, config = load_stage(stage, set_)
        from stagewise.devsession import DevSession
    except BaseException:  # a broken stagewise.toml or stage name: stop the cloud this call started
        if started:
            cloud.stop()
        raise
    session = DevSession(project=project, config=config, cloud=cloud, port=port, watch=watch,
                         keep_cloud=keep_cloud, started_cloud=started, traced=tracing)
    session.run_forever()


def register(app: typer.Typer) -> None:
    app.command("dev")(dev)
