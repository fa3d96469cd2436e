"""Resource types, one class per AWS type, grouped in one module per AWS service.

Every module in this package is imported on first use, so each `@register`ed class lands in
`REGISTRY`; adding a type touches one file (a new service is a new module here).
"""

from __future__ import annotations

import importlib
import pkgutil

from stagewise.provisioner.resources.base import (
    REGISTRY,
    Provisioned,
    ResourceContext,
    ResourceType,
    register,
)

__all__ = ["REGISTRY", "Provisioned", "ResourceContext", "ResourceType", "register", "resource_class"]

_loaded = False


def _load_all() -> None:
    global _loaded
    if _loaded:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")
    _loaded = True


def resource_class(type_name: str) -> type[ResourceType] | None:
    """The handler class for a CloudFormation type name, or None if the provisioner has none."""
    _load_all()
    return REGISTRY.get(type_name)


def supported_types() -> list[str]:
    _load_all()
    return sorted(REGISTRY)
