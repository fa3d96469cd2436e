"""`stagewise bootstrap --account A [--region R] [--local]`: create the pipeline's bucket in an account."""

from __future__ import annotations

from typing import Annotated

import typer

from stagewise.errors import UserError
from stagewise.options import LocalOption


def bootstrap(
    account: Annotated[str, typer.Option("--account", "-a", help="Account name from stagewise.toml [accounts].")],
    region: Annotated[str | None, typer.Option("--region", help="Region (default: [app] region).")] = None,
    local: LocalOption = False,
) -> None:
    """Create, once per account and region, the bucket for artifacts, build history and the deploy lock
    (versioned, private, encrypted). Safe to run again.

    Example:  stagewise bootstrap --account dev
    """
    from stagewise.config import load_project
    from stagewise.pipeline.store import PipelineStore
    from stagewise.target import target_for

    project = load_project()
    if account not in project.accounts:
        known = ", ".join(sorted(project.accounts)) or "none"
        raise UserError(f"unknown account '{account}'; accounts in {project.file}: {known}")
    overrides = {"account": account, **({"region": region} if region else {})}
    config = project.stage("bootstrap", overrides)
    target = target_for(project, config, local=local)
    store = PipelineStore(target.client("s3"), account_id=target.account_id, region=target.region,
                          account_name=account)
    created = store.bootstrap()
    where = "local cloud" if target.local else "AWS"
    print(f"{'created' if created else 'checked'} s3://{store.bucket} in account {account} "
          f"({target.account_id}, {target.region}, {where}): versioned, public access blocked, encrypted")


def register(app: typer.Typer) -> None:
    app.command("bootstrap")(bootstrap)
