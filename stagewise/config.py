"""The project manifest (`stagewise.toml`) as typed configuration.

Data flow: the TOML file is parsed once into a `Project` (app, services,
accounts and the raw setting layers). `Project.stage(name, overrides)` merges
the layers for one stage into a validated `StageConfig`, using the single
precedence table `layers_for()` below:

    CLI flag  →  [stages.<name>]  →  [defaults]  →  built-in defaults

A stage not named under [stages] (a feature branch, a pull request) is
"ephemeral": its layers are [ephemeral] → [stages.<inherits>] → [defaults].

Settings are what the tool itself acts on (account, memory, protect, ...). Stage
variables (`[defaults.vars]`, `[stages.<name>.vars]`, `[ephemeral.vars]`) are the
app's own free-form values; they go through the same table, key by key, and reach
stack code as `ctx.stage.vars`. `Project.resolve()` also says which layer every
value came from (`stagewise config`).

Local stand-ins (`[local.standins.<name>]`) are the app's own programs that stand in for a
third-party API on local stages; `stagewise.standins` runs them.

Every error names the file, the key and what is allowed.
"""

from __future__ import annotations

import hashlib
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
MAX_STAGE_NAME = 20
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")  # a secret's name: the last part of its SSM parameter
VarValue = str | int | float | bool
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


class StandinSettings(_Strict):
    """One `[local.standins.<name>]`: a program that stands in for a third-party API on local stages."""

    module: str = Field(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")  # run as python -m <module> from the root
    secret: str = Field(pattern=SECRET_NAME.pattern)  # started when a service of the stage declares it
    secret_value: str | None = Field(default=None, min_length=1)  # a local stage's value when it has none
    url_variable: str = Field(pattern=r"^[A-Z_][A-Z0-9_]*$")  # the stand-in's base URL, for the secret's users


class StageSettings(_Strict):
    """One layer of settings: every field optional, so layers can be merged."""

    account: str | None = None
    region: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = None
    memory: int | None = Field(default=None, ge=128, le=10240)
    timeout: int | None = Field(default=None, ge=1, le=900)
    alarms: bool | None = None
    protect: bool | None = None
    infra_from: str | None = None
    secrets_from: str | None = None
    domain: str | None = Field(default=None, pattern=r"^([a-z0-9-]+\.)+[a-z]{2,}$")
    vars: dict[str, VarValue] | None = None  # the app's own values; keys checked by check_vars



class EphemeralSettings(StageSettings):
    inherits: str = "dev"


BUILT_IN = StageSettings(
    account=None,
    log_level="INFO",
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
    memory: int
    timeout: int
    alarms: bool
    protect: bool
    infra_from: str | None
    secrets_from: str | None
    domain: str | None
    ephemeral: bool
    vars: dict[str, VarValue] = Field(default_factory=dict)


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
    standins: dict[str, StandinSettings] = field(default_factory=dict)  # [local.standins.<name>]

    def layers_for(self, stage: str, overrides: StageSettings | None = None) -> list[Layer]:
        """The precedence table, highest first. Used for lookup and merge alike."""
        layers = [Layer("--set", overrides)] if overrides else []
        if stage in self.stages:
            layers.append(Layer(f"[stages.{stage}]", self.stages[stage]))
        else:
            base = self.ephemeral.inherits
            layers.append(Layer("[ephemeral]", StageSettings(
                **self.ephemeral.model_dump(exclude={"inherits"}, exclude_none=True))))
            layers.append(Layer(f"[stages.{base}]", self.stages.get(base, StageSettings())))
        layers += [Layer("[defaults]", self.defaults), Layer("default", BUILT_IN)]
        return layers

    def stage(self, name: str, overrides: Mapping[str, Any] | None = None) -> StageConfig:
        return self.resolve(name, overrides).config

    def resolve(self, name: str, overrides: Mapping[str, Any] | None = None) -> Resolution:
        """The stage's merged settings and variables, and the layer each value came from."""
        check_stage_name(name)
        cli = _validated(StageSettings, _cli_layer(overrides), "command-line --set")
        merged = merge_layers(self.layers_for(name, cli))
        values, sources = merged.values, dict(merged.sources)
        ephemeral = name not in self.stages
        if ephemeral and name != self.ephemeral.inherits and values.get("protect"):
            values["protect"] = False  # protection belongs to the named stage, never to its children
            sources["protect"] = "default (an ephemeral stage never inherits protect)"
        account = values.get("account")
        if account is None:
            raise ConfigError(f"{self.file}: stage '{name}' has no account; set [defaults] account = \"<name>\"")
        if account not in self.accounts:
            allowed = ", ".join(sorted(self.accounts)) or "(none defined)"
            raise ConfigError(
                f"{self.file}: stage '{name}': account '{account}' is not under [accounts]; allowed: {allowed}"
            )
        for key in ("infra_from", "secrets_from"):
            if values.get(key) == name:
                values[key] = None
                sources[key] = f"{sources[key]} (names the stage itself: its own)"
        if "region" not in values:
            sources["region"] = "[app]"
        if ephemeral and values.get("domain") and sources.get("domain") != "--set":
            # a PR or feature stage gets a name of its own under the domain it inherits (dev's zone covers it)
            values["domain"] = f"{name}.{values['domain']}"
            sources["domain"] = f"{name}. + {sources['domain']}"
        config = StageConfig(
            name=name,
            account=account,
            region=values.get("region") or self.app.region,
            log_level=values["log_level"],
            memory=values["memory"],
            timeout=values["timeout"],
            alarms=values["alarms"],
            protect=values["protect"],
            infra_from=values.get("infra_from"),
            secrets_from=values.get("secrets_from"),
            domain=values.get("domain"),
            ephemeral=ephemeral,
            vars=merged.vars,
        )
        for key in SETTINGS:
            sources.setdefault(key, "default")
        return Resolution(config=config, sources=sources, var_sources=merged.var_sources)

    def account(self, name: str) -> AccountConfig:
        return self.accounts[name]

    def service(self, name: str) -> Service:
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(sorted(self.services))
            raise ConfigError(f"unknown service '{name}'; services in {self.file}: {known}") from None


@dataclass(frozen=True)
class Layer:
    """One row of the precedence table: where it comes from (`[stages.dev]`, `--set`, ...) and its values."""

    source: str
    settings: StageSettings


@dataclass(frozen=True)
class Merged:
    values: dict[str, Any]
    sources: dict[str, str]
    vars: dict[str, VarValue]
    var_sources: dict[str, str]


@dataclass(frozen=True)
class Resolution:
    """A stage as `stagewise config` explains it: the config, and the layer every value came from."""

    config: StageConfig
    sources: dict[str, str]  # setting -> layer
    var_sources: dict[str, str]  # variable -> layer (`[stages.dev.vars]`, `--set`, ...)


SETTINGS = tuple(name for name in StageSettings.model_fields if name != "vars")


def merge_layers(layers: list[Layer]) -> Merged:
    """First layer that sets a key wins (layers are ordered highest precedence first); vars key by key."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    variables: dict[str, VarValue] = {}
    var_sources: dict[str, str] = {}
    for layer in reversed(layers):
        dumped = layer.settings.model_dump(exclude_none=True)
        for key, value in (dumped.pop("vars", None) or {}).items():
            variables[key] = value
            var_sources[key] = layer.source if layer.source in ("--set", "default") else f"{layer.source[:-1]}.vars]"
        for key, value in dumped.items():
            values[key] = value
            sources[key] = layer.source
    return Merged(values, sources, variables, var_sources)


def check_stage_name(name: str) -> None:
    if not STAGE_NAME.match(name):
        raise ConfigError(
            f"bad stage name '{name}': use 1-20 characters, lowercase letters, digits and '-', "
            "starting with a letter (it becomes part of every resource name)"
        )


HASH_CHARS = 6


def stage_name_for_branch(branch: str) -> str:
    """A valid stage name for a git branch (feature/Login_Form → feature-login-form).

    `refs/heads/` is stripped. A name longer than 20 characters keeps its start and ends with a
    short hash of the whole branch name, so two long branches never share a stage.
    """
    name = branch.strip()
    name = name.removeprefix("refs/heads/")
    if name.startswith("refs/"):
        raise ConfigError(f"'{branch}' is not a branch (only refs/heads/... names a branch); pass a branch name")
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ConfigError(
            f"branch '{branch}' has no letters or digits to name a stage after; "
            "pass --stage NAME instead, or rename the branch"
        )
    if not slug[0].isalpha():
        slug = "b-" + slug
    if len(slug) <= MAX_STAGE_NAME:
        return slug
    digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_CHARS]
    return f"{slug[:MAX_STAGE_NAME - HASH_CHARS - 1].rstrip('-')}-{digest}"


def stage_name_for_pr(number: str | int) -> str:
    """`pr-<N>` for a pull request number (a positive integer, as text or int)."""
    text = str(number).strip()
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"pull request number '{number}' is not a positive integer; pass e.g. --pr 42")
    name = f"pr-{int(text)}"
    check_stage_name(name)
    return name


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


_TOP_LEVEL = {"app", "services", "accounts", "defaults", "stages", "ephemeral", "local"}


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
        stages[name] = _stage_layer(value, f"[stages.{name}]", file)
    return Project(
        root=root,
        app=app,
        services=_services(_table(raw, "services", file), root, file),
        accounts=accounts,
        defaults=_stage_layer(raw.get("defaults", {}), "[defaults]", file),
        stages=stages,
        ephemeral=_stage_layer(raw.get("ephemeral", {}), "[ephemeral]", file, model=EphemeralSettings),
        file=file,
        standins=_standins(_table(raw, "local", file), file),
    )


def _stage_layer(value: Any, where: str, file: Path, model: type[M] = StageSettings) -> M:  # type: ignore[assignment]
    if isinstance(value, dict) and "vars" in value:
        check_vars(value["vars"], f"{file}: {where[:-1]}.vars]")
    return _validated(model, value, where, file)


def check_vars(table: Any, where: str) -> None:
    """Stage variables: a table of identifier = string, number or boolean."""
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table of name = value")
    for key, value in table.items():
        if not VAR_NAME.match(key):
            suggestion = re.sub(r"\W+", "_", key).strip("_") or "name"
            if suggestion[0].isdigit():
                suggestion = "_" + suggestion
            raise ConfigError(
                f"{where}: '{key}' is not a valid variable name (letters, digits and _, not starting "
                f"with a digit); rename it, e.g. {suggestion}"
            )
        if not isinstance(value, str | int | float | bool):
            raise ConfigError(f"{where}: {key}: a variable is a string, number or boolean (got {type(value).__name__})")


def _cli_layer(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """`--set key=value` pairs as a layer: `vars.NAME=value` sets a stage variable."""
    layer: dict[str, Any] = {}
    variables: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key.startswith("vars."):
            variables[key.removeprefix("vars.")] = value
        elif key in SETTINGS:
            layer[key] = value
        else:
            raise ConfigError(
                f"command-line --set: unknown setting '{key}' (allowed: {', '.join(SETTINGS)}); "
                f"a stage variable is --set vars.{key}=VALUE"
            )
    if variables:
        check_vars(variables, "command-line --set vars.*")
        layer["vars"] = variables
    return layer


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


def _standins(local: dict[str, Any], file: Path) -> dict[str, StandinSettings]:
    """`[local.standins.<name>]`: each validated, one stand-in per secret. Whether the module exists is
    checked when `dev` runs it (stagewise/standins.py): a deploy or a CI job need not carry the app's tools."""
    if set(local) - {"standins"}:
        raise ConfigError(f"{file}: [local]: unknown key(s) {sorted(set(local) - {'standins'})}; allowed: standins")
    standins: dict[str, StandinSettings] = {}
    for name, value in _table(local, "standins", file).items():
        where = f"[local.standins.{name}]"
        if not SERVICE_NAME.match(name):
            raise ConfigError(f"{file}: {where}: a stand-in's name is lowercase letters, digits and '-' (it names its state folder)")
        standin = _validated(StandinSettings, value, where, file)
        taken = [other for other, settings in standins.items() if settings.secret == standin.secret]
        if taken:
            raise ConfigError(f"{file}: {where}: secret {standin.secret} is already [local.standins.{taken[0]}]'s; "
                              "one stand-in per secret")
        standins[name] = standin
    return standins


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
            if err["type"] == "missing":
                problems.append(f"missing key '{key}'")
            elif err["type"] == "extra_forbidden":
                allowed = ", ".join(model.model_fields)
                hint = " (an app value of your own goes under vars)" if "vars" in model.model_fields else ""
                problems.append(f"unknown key '{key}' (allowed: {allowed}){hint}")
            else:
                problems.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError(f"{prefix}: " + "; ".join(problems)) from exc
