"""Where a stage lives: the local cloud or a real AWS account, and a client factory for it.

Every command that touches a stage's account asks `target_for(...)` once and then
only calls `target.client("ssm")`: it never asks which kind it has. A stage runs
locally when it is `local`, when `--local` is given, or when STAGEWISE_LOCAL=1;
each account of stagewise.toml is then its own simulated account in the cloud.
"""

from __future__ import annotations

import os
import threading
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
        """Where the local cloud's provisioner keeps in-flight deploy state, which readers of its stacks look at too
        (None for AWS)."""
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


# Every client of an AWS target retries the same way: parallel PR deploys share an account's API
# rate limits, and adaptive mode backs off client-side when throttled instead of failing the deploy.
AWS_RETRIES = {"mode": "adaptive", "max_attempts": 10}
ROLE_SESSION_NAME = "stagewise"


def aws_client_config() -> Any:
    """The one botocore Config every client made for an AWS target uses."""
    from botocore.config import Config

    return Config(retries=dict(AWS_RETRIES))


def _aws_target(project: Project, stage: StageConfig) -> Target:
    import boto3
    import botocore.exceptions

    account = project.accounts[stage.account]
    config = aws_client_config()
    botocore_session, how = _credentials_source(stage.account, account)
    try:
        if account.role_arn:
            botocore_session = _assuming(botocore_session, account.role_arn, stage.region, config)
            how = f"role {account.role_arn} assumed with {how}"
        session = boto3.Session(botocore_session=botocore_session, region_name=stage.region)
        actual = session.client("sts", config=config).get_caller_identity()["Account"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        reason = " ".join(str(exc).split())
        raise UserError(
            f"stage '{stage.name}' needs AWS account '{stage.account}' ({account.id}) through {how}, "
            f"and that failed: {reason}. Configure it, or add --local to use the local cloud"
        ) from exc
    if actual != account.id:
        raise UserError(
            f"{how} reaches account {actual}, but stagewise.toml says '{stage.account}' is {account.id}; "
            "use credentials for that account, or fix its id"
        )
    lock = threading.Lock()

    def factory(service: str) -> Any:
        with lock:  # making clients from one session is not thread-safe; using them is
            return session.client(service, config=config)

    return Target(account_id=account.id, region=stage.region, local=False, client=factory)


def _credentials_source(name: str, account: Any) -> tuple[Any, str]:
    """The botocore session whose credentials reach `account` (before any role), and how it was chosen.

    A configured profile is used when it exists in the AWS config or credentials file. When it does
    not (a CI runner with OIDC or key variables and no profiles), the default credential chain is
    used instead: environment keys, web identity, container or instance credentials. Either way
    the caller checks the account id with STS.
    """
    import botocore.exceptions
    import botocore.session

    default = botocore.session.Session()
    if account.profile and account.profile in default.available_profiles:
        return botocore.session.Session(profile=account.profile), f"profile '{account.profile}'"
    try:
        found = default.get_credentials()
    except botocore.exceptions.BotoCoreError as exc:
        found, problem = None, f" ({' '.join(str(exc).split())})"
    else:
        problem = ""
    if found is None:
        files = f"{_config_file('config_file')} or {_config_file('credentials_file')}"
        if account.profile:
            raise UserError(
                f"account '{name}' ({account.id}) uses AWS profile '{account.profile}', which is not in {files}, "
                f"and the environment has no AWS credentials{problem}; configure the profile "
                f"(aws configure --profile {account.profile}) or set credentials "
                "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), "
                "or add --local to use the local cloud"
            )
        raise UserError(
            f"account '{name}' ({account.id}) has no profile and no AWS credentials were found{problem}; "
            "set credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE) "
            f"or add profile = \"...\" to [accounts.{name}] in stagewise.toml, or add --local to use the local cloud"
        )
    missing = f"; profile '{account.profile}' is not configured here" if account.profile else ""
    return default, f"the default credential chain ({found.method}{missing})"


def _config_file(variable: str) -> str:
    import botocore.session

    return str(botocore.session.Session().get_config_variable(variable))


def _assuming(source: Any, role_arn: str, region: str, config: Any) -> Any:
    """A botocore session whose credentials assume `role_arn` with `source`'s, and renew themselves.

    The first AssumeRole happens on first use; each later one shortly before the current
    credentials expire (botocore refreshes 15 minutes ahead), so a deploy longer than the
    role's session duration keeps working.
    """
    import botocore.exceptions
    import botocore.session
    from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials

    source_credentials = source.get_credentials()
    if source_credentials is None:
        raise botocore.exceptions.NoCredentialsError()

    def assume() -> dict[str, Any]:
        frozen = source_credentials.get_frozen_credentials()  # the source may refresh itself too
        sts = source.create_client(
            "sts", region_name=region, config=config, aws_access_key_id=frozen.access_key,
            aws_secret_access_key=frozen.secret_key, aws_session_token=frozen.token,
        )
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=ROLE_SESSION_NAME)["Credentials"]
        return {"access_key": creds["AccessKeyId"], "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"], "expiry_time": creds["Expiration"].isoformat()}

    refreshing = DeferredRefreshableCredentials(refresh_using=assume, method="assume-role")

    class _Role(CredentialProvider):
        METHOD = "assume-role"

        def load(self) -> Any:
            return refreshing

    assumed = botocore.session.Session()
    assumed.register_component("credential_provider", CredentialResolver([_Role()]))
    return assumed
