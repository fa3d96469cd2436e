"""Template parameters: given values + defaults → typed values for resolution.

String stays a string, Number is checked (and kept as the string CloudFormation passes around),
CommaDelimitedList becomes a list of strings. AllowedValues / AllowedPattern are enforced.
"""

from __future__ import annotations

import re
from typing import Any

from stagewise.provisioner.errors import TemplateError


def bind_parameters(
    specs: dict[str, dict[str, Any]], given: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """(values for intrinsics, raw string values to record) — or TemplateError saying what is wrong."""
    given = {k: _raw(v) for k, v in (given or {}).items()}
    unknown = sorted(set(given) - set(specs))
    if unknown:
        raise TemplateError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    missing = sorted(name for name, spec in specs.items() if name not in given and "Default" not in spec)
    if missing:
        raise TemplateError(f"Parameters: [{', '.join(missing)}] must have values")
    raw = {name: given.get(name, _raw(spec.get("Default"))) for name, spec in specs.items()}
    values = {name: _typed(name, specs[name], value) for name, value in raw.items()}
    return values, raw


def _raw(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _typed(name: str, spec: dict[str, Any], value: str) -> Any:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(a) for a in allowed]:
        raise TemplateError(
            f"Parameter '{name}' must be one of AllowedValues ({', '.join(map(str, allowed))})"
        )
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise TemplateError(f"Parameter '{name}' must match pattern {pattern}")
    kind = spec["Type"]
    if kind in ("Number", "List<Number>"):
        for item in value.split(",") if kind == "List<Number>" else [value]:
            try:
                float(item)
            except ValueError as exc:
                raise TemplateError(f"Parameter '{name}' must be a number, got {item!r}") from exc
    if kind in ("CommaDelimitedList", "List<Number>"):
        return [item.strip() for item in value.split(",")] if value else []
    return value
