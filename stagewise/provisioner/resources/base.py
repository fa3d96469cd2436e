"""The protocol every resource type implements, and the registry that maps type names to classes.

A resource type is one subclass of `ResourceType`, decorated with `@register`. It declares
which properties it understands (any other property is refused at validation, so nothing is
silently dropped), which ones force a replacement, which attributes `Fn::GetAtt` may read and
which property carries a custom name. The engine calls `create` / `update` / `delete` with
fully resolved properties; each returns the physical id and the attributes to record.
`PutResource` is the shape of a type whose create and update are one idempotent call. The
helpers at the end turn template properties into API arguments (`optional`, `tags_list`, and
for SNS / SQS, which take every attribute as a string, `string_attributes` and `fifo_name`).
"""

from __future__ import annotations

import json
import secrets
import string
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from stagewise.provisioner.errors import TemplateError
from stagewise.provisioner.state import ResourceState

_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class ResourceContext:
    """What a resource operation may use: the local cloud's clients and where it is."""

    client: Callable[[str], Any]
    account_id: str
    region: str
    stack_name: str
    logical_id: str
    partition: str = "aws"

    def generated_name(self, *, max_length: int = 128, lowercase: bool = False) -> str:
        """A CloudFormation-style physical name: `<stack>-<logical id>-<random>`, trimmed to fit."""
        suffix = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        head = f"{self.stack_name}-{self.logical_id}"[: max_length - len(suffix) - 1]
        name = f"{head}-{suffix}"
        return name.lower() if lowercase else name

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        where = self.region if region else ""
        who = self.account_id if account else ""
        return f"arn:{self.partition}:{service}:{where}:{who}:{resource}"


@dataclass
class Provisioned:
    """The outcome of create/update: what `Ref` returns and what `Fn::GetAtt` may read."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)


class ResourceType(ABC):
    """One AWS resource type. Subclasses set the class variables and implement create/delete."""

    type_name: ClassVar[str]
    properties: ClassVar[frozenset[str]] = frozenset()
    required: ClassVar[frozenset[str]] = frozenset()
    replace_on: ClassVar[frozenset[str]] = frozenset()
    attributes: ClassVar[frozenset[str]] = frozenset()
    name_property: ClassVar[str | None] = None
    update_in_place: ClassVar[bool] = True

    def __init__(self, ctx: ResourceContext) -> None:
        self.ctx = ctx

    @abstractmethod
    def create(self, props: dict[str, Any]) -> Provisioned:
        """Create the resource from resolved properties."""

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        """Apply changed properties in place. Only called when `replacement_reason` is None."""
        raise RuntimeError(f"{self.type_name} sets update_in_place but does not override update()")

    @abstractmethod
    def delete(self, current: ResourceState) -> None:
        """Delete the resource."""

    def physical_id_for(self, name: str) -> str:
        """The physical id of this type's resource named `name` (crash recovery knows only the name)."""
        return name

    def created_at(self, physical_id: str) -> float | None:
        """When the named resource was created (epoch seconds), if this type can tell; None otherwise.

        Lets crash recovery tell a leftover of its own interrupted create from a resource that
        already had the name (a retained table with data) — only the former may be deleted."""
        return None

    def ref(self, current: ResourceState) -> Any:
        return current.physical_id

    def get_att(self, current: ResourceState, name: str) -> Any:
        return current.attributes[name]

    @classmethod
    def replacement_reason(cls, old: dict[str, Any], new: dict[str, Any]) -> str | None:
        """The first changed property that forces replacement, or None to update in place."""
        changed = changed_properties(old, new)
        if changed and not cls.update_in_place:
            return changed[0]
        return next((name for name in changed if name in cls.replace_on), None)

    @classmethod
    def validate(cls, props: dict[str, Any], *, where: str) -> None:
        """Refuse properties this type does not understand and missing required ones."""
        unknown = sorted(set(props) - cls.properties)
        if unknown:
            raise TemplateError(
                f"{where}: property {', '.join(unknown)} is not supported for {cls.type_name} by the "
                f"local provisioner (supported: {', '.join(sorted(cls.properties))})"
            )
        missing = sorted(cls.required - set(props))
        if missing:
            raise TemplateError(f"{where}: {cls.type_name} requires property {', '.join(missing)}")


class PutResource(ResourceType):
    """A type whose create and update are the same idempotent `put`; its physical id is a generated name."""

    @abstractmethod
    def put(self, props: dict[str, Any]) -> None:
        """Make the cloud match `props` (creating or overwriting)."""

    def create(self, props: dict[str, Any]) -> Provisioned:
        self.put(props)
        return Provisioned(physical_id=self.ctx.generated_name(max_length=128))

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        self.put(props)
        return Provisioned(physical_id=current.physical_id)


def changed_properties(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Top-level property names whose value differs, sorted."""
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


REGISTRY: dict[str, type[ResourceType]] = {}


def register(cls: type[ResourceType]) -> type[ResourceType]:
    """Class decorator: make `cls` the handler for its `type_name`."""
    if cls.type_name in REGISTRY:
        raise RuntimeError(f"resource type {cls.type_name} registered twice")
    REGISTRY[cls.type_name] = cls
    return cls


def optional(props: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """API keyword arguments from the template properties present: {template name: api name}."""
    return {api: props[name] for name, api in mapping.items() if name in props}


def tags_list(props: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": t["Key"], "Value": t["Value"]} for t in props.get("Tags", [])]


def attribute_text(value: Any) -> str:
    """A property as SNS / SQS attribute text: booleans lower-case, maps and lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value) if isinstance(value, dict | list) else str(value)


def string_attributes(props: dict[str, Any], keys: tuple[str, ...]) -> dict[str, str]:
    """`{key: attribute_text(value)}` for each of `keys` present in the properties."""
    return {key: attribute_text(props[key]) for key in keys if key in props}


def is_true(value: Any) -> bool:
    """A CloudFormation boolean, given as a bool or as "true" / "false" in any case."""
    return str(value).lower() == "true"


def fifo_name(ctx: ResourceContext, name: str | None, *, fifo: bool, max_length: int) -> str:
    """The physical name of a topic or queue: the given one or a generated one, ending `.fifo` when FIFO."""
    suffix = ".fifo" if fifo else ""
    name = name or ctx.generated_name(max_length=max_length - len(suffix))
    return name if name.endswith(suffix) else name + suffix
