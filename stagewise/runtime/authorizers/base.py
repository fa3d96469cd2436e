"""The authorizer plug-in interface and its registry (one plug-in per API Gateway `AuthorizationType`).

Data flow: the gateway matches a route → `Authorizers.authorize(request, route, call)` looks up the
plug-in registered for `route.authorization` → the plug-in returns an `AuthResult` (what goes into
`requestContext.authorizer` and `requestContext.identity`) or raises `AuthFailure` (API Gateway's own
status and body; the reason goes to the console, never to the client). A type without a plug-in is
refused with 500 `{"message": null}` — an authorizer configuration error, as API Gateway answers one —
never served without authentication.

A plug-in is a class registered by type name and built once per REST API from `AuthorizerDeps`:

    @register("AWS_IAM")
    class IamAuthorizer:
        def __init__(self, deps: AuthorizerDeps) -> None: ...
        def authorize(self, request: HttpRequest, route: RouteSpec, call: AuthCall) -> AuthResult: ...

and its module is imported by `stagewise/runtime/authorizers/__init__.py` (one line). The gateway runs
`authorize` in its event loop's executor, unless the class says `blocks = False` (it never waits on
I/O: it then runs on the loop itself, with no thread hop). A plug-in that waits only until it has read
something once may make `blocks` a property of the built plug-in, read before each request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from stagewise.runtime.auth import UNAUTHORIZED, AuthFailure, CognitoVerifier
from stagewise.runtime.events import ApiContext, HttpRequest
from stagewise.runtime.model import AuthorizerSpec, RouteSpec, RuntimeModel

if TYPE_CHECKING:
    from stagewise.runtime.workers import WorkerSet

__all__ = ["UNAUTHORIZED", "AuthFailure", "AuthResult", "AuthCall", "Authorizer", "AuthorizerDeps", "Authorizers",
           "configuration_error", "method_arn", "register", "registered"]
NOT_AUTHORIZED = "User is not authorized to access this resource"
EXPLICIT_DENY = "User is not authorized to access this resource with an explicit deny"


def configuration_error(reason: str) -> AuthFailure:
    """500 {"message": null}: what API Gateway answers when an authorizer cannot give an answer."""
    return AuthFailure(None, status=500, reason=reason)


@dataclass
class AuthResult:
    """What a plug-in lets through. `authorizer` becomes `requestContext.authorizer` as is (None: the
    key is absent, as for NONE); `identity` is merged into `requestContext.identity` (e.g. the IAM
    plug-in's cognitoIdentityId, caller, userArn, accessKey...)."""

    authorizer: dict[str, Any] | None = None
    identity: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthCall:
    """The per-request facts a plug-in may need beside the request and the route."""

    api: ApiContext
    method: str  # the request's own verb (an ANY route authorizes the actual one)
    path: str  # the request's path, parameter values filled in
    path_parameters: dict[str, str]
    request_id: str
    authorizer: AuthorizerSpec | None  # the route's deployed AWS::ApiGateway::Authorizer, if it names one

    @property
    def method_arn(self) -> str:
        return method_arn(self.api, self.method, self.path)


def method_arn(api: ApiContext, method: str, path: str) -> str:
    """arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<METHOD>/<path without its leading slash>."""
    return f"arn:aws:execute-api:{api.region}:{api.account_id}:{api.api_id}/{api.stage}/{method}/{path.lstrip('/')}"


@dataclass
class AuthorizerDeps:
    """What plug-ins are built from (one set per REST API)."""

    model: RuntimeModel
    workers: WorkerSet
    region: str
    log: Callable[[str], None]
    cognito: CognitoVerifier | None = None
    base_env: dict[str, str] = field(default_factory=dict)  # the workers' base env: the local cloud's endpoint + keys


class Authorizer(Protocol):
    def authorize(self, request: HttpRequest, route: RouteSpec, call: AuthCall) -> AuthResult: ...


Factory = Callable[[AuthorizerDeps], Authorizer]
_REGISTRY: dict[str, Factory] = {}


def register(type_name: str) -> Callable[[Factory], Factory]:
    """Class decorator: the plug-in for routes whose `AuthorizationType` is `type_name`."""

    def add(factory: Factory) -> Factory:
        _REGISTRY[type_name] = factory
        return factory

    return add


def registered() -> dict[str, Factory]:
    return dict(_REGISTRY)


class Authorizers:
    """The plug-ins of one REST API, built on first use of their type."""

    def __init__(self, deps: AuthorizerDeps) -> None:
        self.deps = deps
        self._plugins: dict[str, Authorizer] = {}

    def supports(self, type_name: str) -> bool:
        return type_name in _REGISTRY

    def blocks(self, type_name: str) -> bool:
        """Whether this type's plug-in may wait on I/O (the default: it then runs off the event loop).
        The built plug-in answers if it has been built; a `blocks` that is not a plain bool means yes."""
        source = self._plugins.get(type_name) or _REGISTRY.get(type_name)
        value = getattr(source, "blocks", True)
        return value if isinstance(value, bool) else True

    def plugin(self, type_name: str) -> Authorizer | None:
        """The plug-in built for this type, if a request has used it yet."""
        return self._plugins.get(type_name)

    def authorize(self, request: HttpRequest, route: RouteSpec, call: AuthCall) -> AuthResult:
        plugin = self._plugins.get(route.authorization)
        if plugin is None:
            factory = _REGISTRY.get(route.authorization)
            if factory is None:
                raise configuration_error(f"authorization type {route.authorization} is not emulated locally; "
                                          "the route is refused rather than served without authentication")
            plugin = self._plugins.setdefault(route.authorization, factory(self.deps))
        return plugin.authorize(request, route, call)
