"""`NONE`: the method is open; nothing is added to the event."""

from __future__ import annotations

from stagewise.runtime.authorizers.base import AuthCall, AuthorizerDeps, AuthResult, register
from stagewise.runtime.events import HttpRequest
from stagewise.runtime.model import RouteSpec

_OPEN = AuthResult()


@register("NONE")
class NoAuthorization:
    blocks = False  # answers on the gateway's event loop

    def __init__(self, deps: AuthorizerDeps) -> None:
        pass

    def authorize(self, request: HttpRequest, route: RouteSpec, call: AuthCall) -> AuthResult:
        return _OPEN
