"""The project manifest (`stagewise.toml`) as typed configuration.

Data flow: the TOML file is parsed once into a `Project` (app, services,
accounts and the raw setting layers). `Project.stage(name, overrides)` merges
the layers for one stage into a validated `StageConfig`, using the single
precedence table `layers_for()` below:

    CLI flag  →  [stages.<name>]  →  [defaults]  →  built-in defaults

A stage not named under [stages] (a feature branch, a pull request) is
"ephemeral": its layers are [ephemeral] → [stages.<inherits>] → [defaults].

Every error names the file, the key and what is allowed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stagewise.errors import ConfigError

MANIFEST = "stagewise.toml"
STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
LOCAL_STAGE = "local"
M = TypeVar("M", bound="BaseModel")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppConfig(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,19}$")
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    runtime: Literal["python3.11", "python3.12", "python3.13"] = "python3.12"


class AccountConfig(_Strict):
    id: str = Field(pattern=r"^\d{12}$")
    profile: str | None = None
    role_arn: str | None = Field(default=None, pattern=r"^arn:aws:iam::\d{12}:role/.+$")


class StageSettings(_Strict):
    """One layer of settings: every field optional, so layers can be merged."""

    account: str | None = None
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    admin_phone: str | None = Field(default=None, pattern=r"^\+[1-9]\d{6,14}$")
    memory: int | None = Field(default=None, ge=128, le=10240)
    timeout: int | None = Field(default=None, ge=1, le=900)
    alarms: bool | None = None
    protect: bool | None = None
    infra_from: str | None = None
    secrets_from: str | None = None
    domain: str | None = Field(default=None, pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")


class EphemeralSettings(StageSettings):
    inherits: str = "dev"


BUILT_IN = StageSettings(
    account=None,
    log_level="INFO",
    admin_phone=None,
    memory=256,
    timeout=10,
    alarms=False,
    protect=False,
)


class StageConfig(_Strict):
    """The merged, validated settings of one stage."""

    name: str
    account: str
    region: str
    log_level: str
    admin_phone: str | None
    memory: int
    timeout: int
    alarms: bool
    protect: bool
    infra_from: str | None
    secrets_from: str | None
    domain: str | None
    ephemeral: bool

    @property
    def infra_stage(self) -> str:
        """The stage whose infra stacks this stage uses (itself unless borrowing)."""
        return self.infra_from or self.name


@dataclass(frozen=True)
class Service:
    name: str
    path: Path
    infra: bool = False

    @property
    def stack_module(self) -> Path:
        return self.path / "stack.py"


@dataclass(frozen=True)
class Project:
    root: Path
    app: AppConfig
    services: dict[str, Service]
    accounts: dict[str, AccountConfig]
    defaults: StageSettings
    stages: dict[str, StageSettings]
    ephemeral: EphemeralSettings
    file: Path = field(default=Path(MANIFEST))

    def layers_for(self, stage: str, overrides: StageSettings | None = None) -> list[StageSettings]:
        """The precedence table, highest first. Used for lookup and merge alike."""
        layers = [overrides] if overrides else []
        if stage in self.stages:
            layers.append(self.stages[stage])
        else:
            base = self.ephemeral.inherits
            layers.append(StageSettings(**self.ephemeral.model_dump(exclude={"inherits"}, exclude_none=True)))
            layers.append(self.stages.get(base, StageSettings()))
        layers += [self.defaults, BUILT_IN]
        return layers

    def stage(self, name: str, overrides: Mapping[str, Any] | None = None) -> StageConfig:
        check_stage_name(name)
        cli = _validated(StageSettings, dict(overrides or {}), "command-line --set")
        merged = merge_layers(self.layers_for(name, cli))
        ephemeral = name not in self.stages
        if ephemeral and name != self.ephemeral.inherits and merged.get("protect"):
            merged["protect"] = False  # protection belongs to the named stage, never to its children
        account = merged.get("account")
        if account is None:
            raise ConfigError(f"{self.file}: stage '{name}' has no account; set [defaults] account = \"<name>\"")
        if account not in self.accounts:
            allowed = ", ".join(sorted(self.accounts)) or "(none defined)"
            raise ConfigError(
                f"{self.file}: stage '{name}': account '{account}' is not under [accounts]; allowed: {allowed}"
            )
        for key in ("infra_from", "secrets_from"):
            if merged.get(key) == name:
                merged[key] = None
        return StageConfig(
            name=name,
            account=account,
            region=merged.get("region") or self.app.region,
            log_level=merged["log_level"],
            admin_phone=merged.get("admin_phone"),
            memory=merged["memory"],
            timeout=merged["timeout"],
            alarms=merged["alarms"],
            protect=merged["protect"],
            infra_from=merged.get("infra_from"),
            secrets_from=merged.get("secrets_from"),
            domain=merged.get("domain"),
            ephemeral=ephemeral,
        )

    def account(self, name: str) -> AccountConfig:
        return self.accounts[name]

    def service(self, name: str) -> Service:
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(sorted(self.services))
            raise ConfigError(f"unknown service '{name}'; services in {self.file}: {known}") from None


def merge_layers(layers: list[StageSettings]) -> dict[str, Any]:
    """First layer that sets a key wins (layers are ordered highest precedence first)."""
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged.update(layer.model_dump(exclude_none=True))
    return merged


def check_stage_name(name: str) -> None:
    if not STAGE_NAME.match(name):
        raise ConfigError(
            f"bad stage name '{name}': use 1-20 characters, lowercase letters, digits and '-', "
            "starting with a letter (it becomes part of every resource name)"
        )


def stage_name_for_branch(branch: str) -> str:
    """A valid stage name for a git branch (feature/Login_Form → feature-login-form)."""
    slug = re.sub(r"[^a-z0-9]+", "-", branch.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = "b-" + slug
    return slug[:20].rstrip("-")


def find_manifest(start: Path | None = None) -> Path:
    """STAGEWISE_PROJECT, else the nearest stagewise.toml at or above `start`."""
    env = os.environ.get("STAGEWISE_PROJECT")
    if env:
        candidate = Path(env)
        candidate = candidate / MANIFEST if candidate.is_dir() else candidate
        if not candidate.is_file():
            raise ConfigError(f"STAGEWISE_PROJECT points at {candidate}, which does not exist")
        return candidate.resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file():
            return folder / MANIFEST
    raise ConfigError(f"no {MANIFEST} here or in any parent of {here}; run stagewise inside the project")


def load_project(path: Path | None = None) -> Project:
    file = path if path and path.is_file() else find_manifest(path)
    try:
        raw = tomllib.loads(file.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    return parse_project(raw, root=file.parent, file=file)


_TOP_LEVEL = {"app", "services", "accounts", "defaults", "stages", "ephemeral"}


def parse_project(raw: dict[str, Any], *, root: Path, file: Path) -> Project:
    unknown = set(raw) - _TOP_LEVEL
    if unknown:
        raise ConfigError(f"{file}: unknown section(s) {sorted(unknown)}; allowed: {sorted(_TOP_LEVEL)}")
    if "app" not in raw:
        raise ConfigError(f"{file}: missing [app] section with at least name = \"...\"")
    app = _validated(AppConfig, raw["app"], "[app]", file)
    accounts = {
        name: _validated(AccountConfig, value, f"[accounts.{name}]", file)
        for name, value in _table(raw, "accounts", file).items()
    }
    stages = {}
    for name, value in _table(raw, "stages", file).items():
        try:
            check_stage_name(name)
        except ConfigError as exc:
            raise ConfigError(f"{file}: [stages.{name}]: {exc}") from None
        stages[name] = _validated(StageSettings, value, f"[stages.{name}]", file)
    return Project(
        root=root,
        app=app,
        services=_services(_table(raw, "services", file), root, file),
        accounts=accounts,
        defaults=_validated(StageSettings, raw.get("defaults", {}), "[defaults]", file),
        stages=stages,
        ephemeral=_validated(EphemeralSettings, raw.get("ephemeral", {}), "[ephemeral]", file),
        file=file,
    )


def _services(table: dict[str, Any], root: Path, file: Path) -> dict[str, Service]:
    services = {}
    for name, value in table.items():
        where = f"{file}: [services] {name}"
        if not SERVICE_NAME.match(name):
            raise ConfigError(f"{where}: a service name is lowercase letters, digits and '-'")
        if isinstance(value, str):
            value = {"path": value}
        if not isinstance(value, dict) or set(value) - {"path", "infra"} or "path" not in value:
            raise ConfigError(f'{where}: expected "folder" or {{ path = "folder", infra = true }}')
        path = (root / value["path"]).resolve()
        if not (path / "stack.py").is_file():
            raise ConfigError(f"{where}: {path / 'stack.py'} does not exist; a service folder holds its stack.py")
        services[name] = Service(name=name, path=path, infra=bool(value.get("infra", False)))
    if not services:
        raise ConfigError(f"{file}: [services] is empty; name at least one service folder")
    return services


def _table(raw: dict[str, Any], key: str, file: Path) -> dict[str, Any]:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{file}: [{key}] must be a table")
    return value


def _validated(model: type[M], value: Any, where: str, file: Path | None = None) -> M:
    prefix = f"{file}: {where}" if file else where
    if not isinstance(value, dict):
        raise ConfigError(f"{prefix}: expected a table of settings")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"]) or "?"
            if err["type"] == "extra_forbidden":
                allowed = ", ".join(model.model_fields)
                problems.append(f"unknown key '{key}' (allowed: {allowed})")
            else:
                problems.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError(f"{prefix}: " + "; ".join(problems)) from exc
