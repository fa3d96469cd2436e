"""Where a stage lives: the local cloud or a real AWS account, and a client factory for it.

Every command that touches a stage's account asks `target_for(...)` once and then
only calls `target.client("ssm")`: it never asks which kind it has. A stage runs
locally when it is `local`, when `--local` is given, or when STAGEWISE_LOCAL=1;
each account of stagewise.toml is then its own simulated account in the cloud.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stagewise.config import LOCAL_STAGE, Project, StageConfig
from stagewise.errors import UserError

ClientFactory = Callable[[str], Any]


@dataclass(frozen=True)
class Target:
    account_id: str
    region: str
    local: bool
    client: ClientFactory
    endpoint: str | None = None  # the local cloud's URL, for a local target
    state_dir: Path | None = None  # the local cloud's state dir, for a local target

    @property
    def checkpoints(self) -> Path | None:
        """Where the local provisioner keeps in-flight deploy state (None for AWS: CloudFormation does)."""
        from stagewise.cloud.layout import PROVISIONER_DIR

        return self.state_dir / PROVISIONER_DIR if self.state_dir is not None else None


def wants_local(stage: str, flag: bool) -> bool:
    return flag or stage == LOCAL_STAGE or os.environ.get("STAGEWISE_LOCAL") == "1"


def target_for(project: Project, stage: StageConfig, *, local: bool) -> Target:
    account = project.accounts[stage.account]
    if wants_local(stage.name, local):
        return _local_target(account.id, stage.region)
    return _aws_target(project, stage)


def _local_target(account_id: str, region: str) -> Target:
    from stagewise.cloud import LocalCloud, client, default_state_dir

    state_dir = default_state_dir()
    status = LocalCloud(state_dir).status()
    if not status.running:
        raise UserError("the local cloud is not running; start it with `stagewise cloud start` or `stagewise dev`")
    endpoint = status.endpoint

    def factory(service: str) -> Any:
        return client(endpoint, account_id=account_id, region=region, service=service)

    return Target(account_id=account_id, region=region, local=True, client=factory, endpoint=endpoint,
                  state_dir=state_dir)


def _aws_target(project: Project, stage: StageConfig) -> Target:
    import boto3
    import botocore.exceptions

    account = project.accounts[stage.account]
    how = f"profile '{account.profile}'" if account.profile else f"role {account.role_arn}"
    try:
        session = boto3.Session(profile_name=account.profile, region_name=stage.region)
        if account.role_arn:
            creds = session.client("sts").assume_role(RoleArn=account.role_arn, RoleSessionName="stagewise")
            c = creds["Credentials"]
            session = boto3.Session(
                aws_access_key_id=c["AccessKeyId"],
                aws_secret_access_key=c["SecretAccessKey"],
                aws_session_token=c["SessionToken"],
                region_name=stage.region,
            )
        actual = session.client("sts").get_caller_identity()["Account"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        raise UserError(
            f"stage '{stage.name}' needs AWS account '{stage.account}' ({account.id}) through {how}, "
            f"and that failed: {exc}. Configure it, or add --local to use the local cloud"
        ) from exc
    if actual != account.id:
        raise UserError(
            f"{how} reaches account {actual}, but stagewise.toml says '{stage.account}' is {account.id}"
        )
    return Target(account_id=account.id, region=stage.region, local=False, client=session.client)
