"""Per-stage secrets in SSM Parameter Store (SecureString at /<app>/<stage>/<NAME>).

Values go in through `SecretStore.set` and are read only by the functions that
need them, at run time, by parameter name. Listing shows names and dates, never
values. A stage with `secrets_from` (ephemeral stages: dev) falls back to that
stage's parameter when it has none of its own; `resolve` says which name to use,
and `missing` lets a deploy stop before it touches anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stagewise.config import SECRET_NAME, StageConfig
from stagewise.errors import UserError

MAX_VALUE_BYTES = 4096  # SSM standard tier limit


def check_secret_name(name: str) -> None:
    if not SECRET_NAME.match(name):
        raise UserError(f"bad secret name '{name}': use UPPER_SNAKE_CASE, e.g. API_KEY")


def parameter_name(app: str, stage: str, name: str) -> str:
    return f"/{app}/{stage}/{name}"


@dataclass(frozen=True)
class SecretInfo:
    name: str
    parameter: str
    last_modified: datetime | None
    inherited_from: str | None = None  # set when the value comes from the fallback stage


@dataclass
class SecretStore:
    ssm: Any  # a boto3 SSM client for the stage's account
    app: str

    def set(self, stage: str, name: str, value: str) -> str:
        check_secret_name(name)
        if not value:
            raise UserError(f"secret {name}: the value is empty")
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise UserError(f"secret {name}: the value is over {MAX_VALUE_BYTES} bytes")
        parameter = parameter_name(self.app, stage, name)
        self.ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True)
        return parameter

    def remove(self, stage: str, name: str) -> None:
        check_secret_name(name)
        try:
            self.ssm.delete_parameter(Name=parameter_name(self.app, stage, name))
        except self.ssm.exceptions.ParameterNotFound:
            raise UserError(f"stage '{stage}' has no secret {name}") from None

    def own(self, stage: str) -> dict[str, SecretInfo]:
        prefix = f"/{self.app}/{stage}/"
        found: dict[str, SecretInfo] = {}
        paginator = self.ssm.get_paginator("describe_parameters")
        filters = [{"Key": "Name", "Option": "BeginsWith", "Values": [prefix]}]
        for page in paginator.paginate(ParameterFilters=filters):
            for item in page["Parameters"]:
                name = item["Name"][len(prefix) :]
                if SECRET_NAME.match(name):
                    found[name] = SecretInfo(name, item["Name"], item.get("LastModifiedDate"))
        return found

    def visible(self, stage: StageConfig) -> dict[str, SecretInfo]:
        """The stage's own secrets plus those it inherits from `secrets_from`."""
        secrets = self.own(stage.name)
        if stage.secrets_from:
            for name, info in self.own(stage.secrets_from).items():
                secrets.setdefault(name, SecretInfo(name, info.parameter, info.last_modified, stage.secrets_from))
        return dict(sorted(secrets.items()))

    def resolve(self, stage: StageConfig, names: list[str]) -> dict[str, str]:
        """Secret name → the SSM parameter a function should read. Raises naming what is missing."""
        visible = self.visible(stage)
        missing = [name for name in names if name not in visible]
        if missing:
            raise UserError(
                f"stage '{stage.name}' lacks secret(s) {', '.join(missing)}; nothing was deployed. "
                + " ".join(f"Set it with: stagewise secrets set {name} --stage {stage.name}" for name in missing)
            )
        return {name: visible[name].parameter for name in names}
