"""Typed settings read from the function's environment variables, once per container.

Data flow: a service declares a frozen dataclass whose fields carry the environment variable
name in their metadata (`env_field("TABLE_NAME")`); `load(SettingsClass)` reads every variable,
converts it to the field's type and caches the instance, so later calls cost nothing. A missing
or malformed variable raises `SettingsError` naming the variable and the field.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping
from typing import Any, TypeVar, get_type_hints

T = TypeVar("T")
_ENV = "env"


class SettingsError(RuntimeError):
    """A required environment variable is missing or malformed; the message names it."""


def env_field(name: str, *, default: Any = dataclasses.MISSING) -> Any:
    """A dataclass field filled from environment variable `name` (optional when `default` is given)."""
    return dataclasses.field(default=default, metadata={_ENV: name})


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommonSettings:
    """What every function gets from its stack (see docs/architecture.md, Lambda conventions)."""

    stage: str = env_field("STAGE")
    service_name: str = env_field("POWERTOOLS_SERVICE_NAME")
    log_level: str = env_field("LOG_LEVEL", default="INFO")


@dataclasses.dataclass(frozen=True, kw_only=True)
class NotesSettings(CommonSettings):
    """Settings of the functions that read and write notes and their attachments."""

    table_name: str = env_field("TABLE_NAME")
    bucket_name: str = env_field("BUCKET_NAME")


def read(cls: type[T], environ: Mapping[str, str]) -> T:
    """Build `cls` from `environ` (no caching); raises SettingsError naming what is missing."""
    hints = get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = field.metadata.get(_ENV, field.name.upper())
        raw = environ.get(name)
        if raw is None or raw == "":
            if field.default is dataclasses.MISSING:
                raise SettingsError(
                    f"environment variable {name} is not set (needed by {cls.__name__}.{field.name}); "
                    "set it in the function's Environment.Variables"
                )
            continue
        values[field.name] = _convert(raw, hints[field.name], name=name)
    return cls(**values)


@functools.cache
def load(cls: type[T]) -> T:
    """`cls` read from os.environ on the first call, then the same instance (one per container)."""
    return read(cls, os.environ)


def _convert(raw: str, kind: Any, *, name: str) -> Any:
    if kind is bool:
        if raw.lower() not in {"true", "false", "1", "0"}:
            raise SettingsError(f"environment variable {name}={raw!r} is not a boolean (use true or false)")
        return raw.lower() in {"true", "1"}
    if kind is int:
        try:
            return int(raw)
        except ValueError as exc:
            raise SettingsError(f"environment variable {name}={raw!r} is not an integer") from exc
    return raw
