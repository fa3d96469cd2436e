"""Custom domains in the local runtime: a request whose Host header is a stage's domain reaches its API.

Data flow: the stage's deployed `AWS::ApiGateway::BasePathMapping`s (domain, base path, REST API,
stage; from the provisioner's `StackState`s) → `host_routes()` → `HostRouter(routes, gateways)` →
for each request, `gateway_for(request)`: its Host (port dropped, any case) names a domain and the
path starts with a mapping's base path (`(none)` = the whole domain, else `/<base path>/...`,
longest first) → that API's gateway, with `request.path` made relative to the base path as API
Gateway does. Anything else → None, and the runtime routes it as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stagewise.provisioner.state import StackState

if TYPE_CHECKING:  # events imports the model, which imports this module
    from stagewise.runtime.events import HttpRequest

NO_BASE_PATH = "(none)"


@dataclass(frozen=True)
class HostRoute:
    host: str
    base_path: str  # "" for the whole domain
    api_id: str
    stage: str


def host_routes(states: Iterable[StackState]) -> list[HostRoute]:
    """One route per deployed base path mapping of the stacks."""
    routes = []
    for state in states:
        for res in state.resources.values():
            if res.type != "AWS::ApiGateway::BasePathMapping":
                continue
            props = res.properties
            base = str(props.get("BasePath") or "").strip("/")
            routes.append(HostRoute(host=str(props.get("DomainName", "")).lower().rstrip("."),
                                    base_path="" if base == NO_BASE_PATH else base,
                                    api_id=str(props.get("RestApiId", "")), stage=str(props.get("Stage") or "")))
    return routes


class HostRouter:
    def __init__(self, routes: Iterable[HostRoute], gateways: Mapping[str, Any]) -> None:
        self._gateways = gateways
        self._by_host: dict[str, list[HostRoute]] = {}
        for route in routes:
            self._by_host.setdefault(route.host, []).append(route)
        for found in self._by_host.values():
            found.sort(key=lambda r: len(r.base_path), reverse=True)

    @property
    def hosts(self) -> list[str]:
        return sorted(self._by_host)

    def gateway_for(self, request: HttpRequest) -> Any | None:
        """The gateway of the API the request's Host and base path map to (its path rewritten), or None."""
        host = (request.header("Host") or "").rsplit(":", 1)[0].lower().rstrip(".")
        for route in self._by_host.get(host, ()):
            gateway = self._gateways.get(route.api_id)
            if gateway is None or (route.stage and route.stage != gateway.api.stage):
                continue
            if not route.base_path:
                return gateway
            prefix = "/" + route.base_path
            if request.path == prefix or request.path.startswith(prefix + "/"):
                request.path = request.path[len(prefix):] or "/"
                return gateway
        return None
