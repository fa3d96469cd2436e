"""Match a request path and method against an API's resource templates, as API Gateway does.

Data flow: `RouteTable(routes)` compiles each template ("/notes/{id}", "/files/{proxy+}")
once; `match(method, path)` returns a `RouteMatch` whose `kind` is NONE (no template
matches the path → 404), PARTIAL (a template matches but none of its methods → 405)
or FULL (route + decoded pathParameters). Like API Gateway, a literal segment beats a
`{param}`, which beats a greedy `{proxy+}`; `ANY` answers every method a route does
not declare on its own; a trailing slash is ignored.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from urllib.parse import unquote

from stagewise.runtime.model import RouteSpec


class Match(enum.Enum):
    NONE = "none"
    PARTIAL = "partial"
    FULL = "full"


@dataclass(frozen=True)
class RouteMatch:
    kind: Match
    route: RouteSpec | None = None
    path_parameters: dict[str, str] = field(default_factory=dict)
    allowed: tuple[str, ...] = ()  # methods declared on the matched path


@dataclass(frozen=True)
class _Template:
    path: str
    segments: tuple[str, ...]

    @property
    def rank(self) -> tuple[int, ...]:
        """Lower sorts first: literal (0) < {param} (1) < {proxy+} (2), segment by segment."""
        return tuple(_segment_rank(s) for s in self.segments)

    def match(self, parts: list[str]) -> dict[str, str] | None:
        params: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            if segment.endswith("+}"):
                rest = parts[index:]
                if not rest:
                    return None
                params[segment[1:-2]] = "/".join(unquote(p) for p in rest)
                return params
            if index >= len(parts):
                return None
            if segment.startswith("{"):
                if not parts[index]:
                    return None
                params[segment[1:-1]] = unquote(parts[index])
            elif segment != unquote(parts[index]):
                return None
        return params if len(parts) == len(self.segments) else None


def _segment_rank(segment: str) -> int:
    if segment.endswith("+}"):
        return 2
    return 1 if segment.startswith("{") else 0


def _split(path: str) -> list[str]:
    trimmed = path.strip("/")
    return trimmed.split("/") if trimmed else []


class RouteTable:
    def __init__(self, routes: list[RouteSpec]) -> None:
        by_path: dict[str, dict[str, RouteSpec]] = {}
        for route in routes:
            by_path.setdefault(route.path, {})[route.method] = route
        self._methods = by_path
        templates = [_Template(path, tuple(_split(path))) for path in by_path]
        self._templates = sorted(templates, key=lambda t: t.rank)

    def paths(self) -> list[str]:
        return sorted(self._methods)

    def match(self, method: str, path: str) -> RouteMatch:
        parts = _split(path)
        for template in self._templates:
            params = template.match(parts)
            if params is None:
                continue
            methods = self._methods[template.path]
            route = methods.get(method.upper()) or methods.get("ANY")
            allowed = tuple(sorted(methods))
            if route is None:
                return RouteMatch(Match.PARTIAL, allowed=allowed)
            return RouteMatch(Match.FULL, route=route, path_parameters=params, allowed=allowed)
        return RouteMatch(Match.NONE)
