"""Per-request costs of moto cut in the cloud's process, each one measured (docs/decisions.md).

- **Module list.** moto lists its own package folder (a stat per service) on every request to
  find the backend; the list cannot change while the process runs, so it is read once.

- **Response serializer key lookup.** For every member of every structure it writes, moto's
  serializer asks its alias providers which attribute names to try on the Python object
  (`AttributePicker.get_possible_keys`: five providers, then botocore's `xform_name` of each).
  A DynamoDB item is a map of AttributeValue structures with ten members each, so a GetItem of
  a five-attribute note asks ~200 times — about half of moto's time for the call. The answer
  depends only on the picker, the object's class (its `Meta` aliases, its class name) and the
  member's shape (its name, serialization name and parent, fixed once botocore caches the
  structure's members), so it is computed once per such triple.
- **Action lookup.** Every call lists its handler class's methods with `inspect.getmembers`
  (`method_names_from_class`) to check the action is one; a class's methods do not change while
  the cloud runs, so they are listed once per class.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

_installed = False


def install() -> None:
    """Patch moto once in this process (the cloud server; tests that build the cloud in-process)."""
    global _installed
    if _installed:
        return
    import moto.backends
    from moto.core import responses, serialize

    modules = frozenset(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    for picker in (serialize.AttributePicker, serialize.XFormedAttributePicker):
        picker.get_possible_keys = _memoized(picker.__dict__["get_possible_keys"])  # type: ignore[method-assign]
    _installed = True


def _memoized(compute: Callable[[Any, Any], Iterable[str]]) -> Callable[[Any, Any], tuple[str, ...]]:
    cache: dict[tuple[Any, ...], tuple[Any, tuple[str, ...]]] = {}

    def get_possible_keys(picker: Any, context: Any) -> tuple[str, ...]:
        shape = context.shape
        key = (type(picker), tuple(picker.alias_providers), type(context.obj), id(shape), context.key)
        hit = cache.get(key)
        # the shape is kept with the answer: an id is only reused after its object is gone
        if hit is None or hit[0] is not shape:
            hit = cache[key] = (shape, tuple(compute(picker, context)))
        return hit[1]

    return get_possible_keys
