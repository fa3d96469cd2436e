"""CloudFormation intrinsic functions: static scanning (validation + dependency edges) and resolution.

`scan(value)` walks a template fragment without resolving it: it checks each intrinsic's shape
and returns what it refers to (`Refs`), which the template validator checks and the graph uses.
`resolve(value, scope)` returns the value with every intrinsic evaluated against a `Scope`
(parameters, pseudo parameters, conditions, the values of resources, exports). During planning
a resource not created yet resolves to a `known after deploy` placeholder string.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from stagewise.provisioner.errors import TemplateError

PSEUDO = frozenset(
    {
        "AWS::Region",
        "AWS::AccountId",
        "AWS::StackName",
        "AWS::StackId",
        "AWS::Partition",
        "AWS::URLSuffix",
        "AWS::NoValue",
        "AWS::NotificationARNs",
    }
)
FUNCTIONS = frozenset(
    {
        "Ref",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Join",
        "Fn::ImportValue",
        "Fn::Select",
        "Fn::Split",
        "Fn::If",
        "Fn::GetAZs",
        "Fn::Base64",
        "Fn::FindInMap",
        "Fn::Equals",
        "Fn::Not",
        "Fn::And",
        "Fn::Or",
    }
)
_SUB = re.compile(r"\$\{([^}]*)\}")


class _NoValue:
    """AWS::NoValue: removes the property or list item that holds it."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


@dataclass
class Refs:
    """What a fragment refers to: names for Ref, (resource, attribute) pairs, conditions."""

    names: set[str] = field(default_factory=set)
    attributes: set[tuple[str, str]] = field(default_factory=set)
    conditions: set[str] = field(default_factory=set)
    has_import: bool = False

    def resources(self, logical_ids: set[str]) -> set[str]:
        return {n for n in self.names if n in logical_ids} | {r for r, _ in self.attributes}


def intrinsic(value: Any) -> tuple[str, Any] | None:
    """(function name, argument) when `value` is an intrinsic call, else None."""
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key == "Ref" or key.startswith("Fn::") or key == "Condition":
            return key, value[key]
    return None


def scan(value: Any, *, where: str, refs: Refs | None = None) -> Refs:
    """Check intrinsic shapes in `value` and collect what it refers to."""
    refs = refs if refs is not None else Refs()
    call = intrinsic(value)
    if call is not None:
        _scan_call(call[0], call[1], where=where, refs=refs)
    elif isinstance(value, dict):
        for key, item in value.items():
            scan(item, where=f"{where}.{key}", refs=refs)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            scan(item, where=f"{where}[{index}]", refs=refs)
    return refs


def _bad(where: str, name: str, shape: str) -> TemplateError:
    return TemplateError(f"Template error at {where}: {name} expects {shape}")


def _scan_call(name: str, arg: Any, *, where: str, refs: Refs) -> None:
    if name == "Condition":
        if not isinstance(arg, str):
            raise _bad(where, name, "a condition name")
        refs.conditions.add(arg)
    elif name == "Ref":
        if not isinstance(arg, str):
            raise _bad(where, name, "a parameter or resource name")
        refs.names.add(arg)
    elif name == "Fn::GetAtt":
        refs.attributes.add(_getatt_target(arg, where=where))
    elif name == "Fn::Sub":
        _scan_sub(arg, where=where, refs=refs)
    elif name not in FUNCTIONS:
        raise TemplateError(f"Template error at {where}: unknown intrinsic function {name}")
    else:
        _check_shape(name, arg, where=where)
        if name == "Fn::ImportValue":
            refs.has_import = True
        if name == "Fn::If":
            refs.conditions.add(arg[0])
            arg = arg[1:]
        scan(arg, where=f"{where}.{name}", refs=refs)


_LIST_ARITY = {
    "Fn::Join": 2,
    "Fn::Select": 2,
    "Fn::Split": 2,
    "Fn::If": 3,
    "Fn::Equals": 2,
    "Fn::FindInMap": 3,
}


def _check_shape(name: str, arg: Any, *, where: str) -> None:
    arity = _LIST_ARITY.get(name)
    if arity is not None and (not isinstance(arg, list) or len(arg) != arity):
        raise _bad(where, name, f"a list of {arity} items")
    if name == "Fn::If" and not isinstance(arg[0], str):
        raise _bad(where, name, "a condition name as its first item")
    if name == "Fn::Join" and not isinstance(arg[0], str):
        raise _bad(where, name, "a delimiter string as its first item")
    if name == "Fn::Not" and (not isinstance(arg, list) or len(arg) != 1):
        raise _bad(where, name, "a list of 1 condition")
    if name in ("Fn::And", "Fn::Or") and (not isinstance(arg, list) or not 2 <= len(arg) <= 10):
        raise _bad(where, name, "a list of 2 to 10 conditions")


def _getatt_target(arg: Any, *, where: str) -> tuple[str, str]:
    if isinstance(arg, str) and "." in arg:
        logical_id, _, attribute = arg.partition(".")
        return logical_id, attribute
    if isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg):
        return arg[0], arg[1]
    raise _bad(where, "Fn::GetAtt", "[LogicalId, Attribute] or 'LogicalId.Attribute'")


def _sub_parts(arg: Any, *, where: str) -> tuple[str, dict[str, Any]]:
    if isinstance(arg, str):
        return arg, {}
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
        return arg[0], arg[1]
    raise _bad(where, "Fn::Sub", "a string or [string, {variables}]")


def _scan_sub(arg: Any, *, where: str, refs: Refs) -> None:
    text, variables = _sub_parts(arg, where=where)
    scan(variables, where=f"{where}.Fn::Sub", refs=refs)
    for match in _SUB.finditer(text):
        token = match.group(1)
        if token.startswith("!") or token in variables:
            continue
        if "." in token:
            refs.attributes.add(_getatt_target(token, where=where))
        else:
            refs.names.add(token)


@dataclass
class Scope:
    """Everything resolution reads. `resource_value(logical_id, attribute|None)` gives Ref/GetAtt."""

    region: str
    account_id: str
    stack_name: str
    stack_id: str
    parameters: Mapping[str, Any]
    conditions: Mapping[str, bool]
    mappings: Mapping[str, Any]
    resource_value: Callable[[str, str | None], Any]
    import_value: Callable[[str], Any]
    partition: str = "aws"

    def pseudo(self, name: str) -> Any:
        values = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
            "AWS::NotificationARNs": [],
        }
        return values[name]

    def ref(self, name: str) -> Any:
        if name in PSEUDO:
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        return self.resource_value(name, None)


def resolve(value: Any, scope: Scope) -> Any:
    """`value` with every intrinsic evaluated; AWS::NoValue entries are dropped."""
    call = intrinsic(value)
    if call is not None and call[0] != "Condition":
        return _FUNCS[call[0]](call[1], scope)
    if isinstance(value, dict):
        items = ((k, resolve(v, scope)) for k, v in value.items())
        return {k: v for k, v in items if v is not NO_VALUE}
    if isinstance(value, list):
        return [v for v in (resolve(item, scope) for item in value) if v is not NO_VALUE]
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def _sub(arg: Any, scope: Scope) -> str:
    text, variables = _sub_parts(arg, where="Fn::Sub")
    values = {k: resolve(v, scope) for k, v in variables.items()}

    def replace(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("!"):
            return "${" + token[1:] + "}"
        if token in values:
            return _text(values[token])
        if "." in token and token not in PSEUDO:
            logical_id, _, attribute = token.partition(".")
            return _text(scope.resource_value(logical_id, attribute))
        return _text(scope.ref(token))

    return _SUB.sub(replace, text)


def _getatt(arg: Any, scope: Scope) -> Any:
    logical_id, attribute = _getatt_target(arg, where="Fn::GetAtt")
    return scope.resource_value(logical_id, attribute)


def _select(arg: Any, scope: Scope) -> Any:
    index, items = resolve(arg[0], scope), resolve(arg[1], scope)
    try:
        return items[int(index)]
    except (IndexError, ValueError, TypeError) as exc:
        raise TemplateError(f"Fn::Select: index {index!r} is not valid for {items!r}") from exc


def _split(arg: Any, scope: Scope) -> list[str]:
    return _text(resolve(arg[1], scope)).split(resolve(arg[0], scope))


def _join(arg: Any, scope: Scope) -> str:
    items = resolve(arg[1], scope)
    if not isinstance(items, list):
        raise TemplateError(f"Fn::Join expects a list of values to join, got {items!r}")
    return arg[0].join(_text(v) for v in items)


def _if(arg: Any, scope: Scope) -> Any:
    name = arg[0]
    if name not in scope.conditions:
        raise TemplateError(f"Fn::If refers to condition {name}, which the template does not define")
    return resolve(arg[1] if scope.conditions[name] else arg[2], scope)


def _find_in_map(arg: Any, scope: Scope) -> Any:
    keys = [resolve(a, scope) for a in arg]
    try:
        return scope.mappings[keys[0]][keys[1]][keys[2]]
    except (KeyError, TypeError) as exc:
        raise TemplateError(f"Fn::FindInMap: no entry {keys} in Mappings") from exc


def _get_azs(arg: Any, scope: Scope) -> list[str]:
    region = resolve(arg, scope) or scope.region
    return [f"{region}{zone}" for zone in "abc"]


def _base64(arg: Any, scope: Scope) -> str:
    return base64.b64encode(_text(resolve(arg, scope)).encode()).decode()


def _import(arg: Any, scope: Scope) -> Any:
    return scope.import_value(_text(resolve(arg, scope)))


def _condition_only(name: str) -> Callable[[Any, Scope], Any]:
    def refuse(arg: Any, scope: Scope) -> Any:
        raise TemplateError(f"{name} can only be used in the Conditions section or in another condition")

    return refuse


_FUNCS: dict[str, Callable[[Any, Scope], Any]] = {
    "Ref": lambda arg, scope: scope.ref(arg),
    "Fn::GetAtt": _getatt,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::ImportValue": _import,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::GetAZs": _get_azs,
    "Fn::Base64": _base64,
    "Fn::FindInMap": _find_in_map,
    "Fn::Equals": _condition_only("Fn::Equals"),
    "Fn::Not": _condition_only("Fn::Not"),
    "Fn::And": _condition_only("Fn::And"),
    "Fn::Or": _condition_only("Fn::Or"),
}


def evaluate_conditions(
    conditions: Mapping[str, Any], scope_for: Callable[[dict[str, bool]], Scope]
) -> dict[str, bool]:
    """Evaluate every named condition (they may refer to each other; a loop is an error)."""
    done: dict[str, bool] = {}
    scope = scope_for(done)

    def condition(name: str, stack: tuple[str, ...]) -> bool:
        if name in done:
            return done[name]
        if name not in conditions:
            raise TemplateError(f"Condition {name} is not defined in the Conditions section")
        if name in stack:
            raise TemplateError(f"Conditions refer to each other in a loop: {' -> '.join((*stack, name))}")
        done[name] = evaluate(conditions[name], (*stack, name))
        return done[name]

    def evaluate(expr: Any, stack: tuple[str, ...]) -> bool:
        call = intrinsic(expr)
        if call is None:
            raise TemplateError(f"Condition {stack[-1]}: expected a condition function, got {expr!r}")
        name, arg = call
        if name == "Condition":
            return condition(arg, stack)
        if name == "Fn::Equals":
            return _text(resolve(arg[0], scope)) == _text(resolve(arg[1], scope))
        if name == "Fn::Not":
            return not evaluate(arg[0], stack)
        if name == "Fn::And":
            return all(evaluate(a, stack) for a in arg)
        if name == "Fn::Or":
            return any(evaluate(a, stack) for a in arg)
        raise TemplateError(f"Condition {stack[-1]}: {name} is not a condition function")

    for name in conditions:
        condition(name, ())
    return done
