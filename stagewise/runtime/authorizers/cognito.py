"""`COGNITO_USER_POOLS`: the token in the authorizer's header is verified against the user pool
(`stagewise.runtime.auth.CognitoVerifier`: signature, expiry, issuer, audience, OAuth scopes);
its claims reach the function as `requestContext.authorizer.claims`, every value a string."""

from __future__ import annotations

from stagewise.runtime.auth import AuthFailure, CognitoVerifier
from stagewise.runtime.authorizers.base import AuthCall, AuthorizerDeps, AuthResult, register
from stagewise.runtime.events import HttpRequest, claims_as_strings
from stagewise.runtime.model import RouteSpec

INTERNAL = "Internal server error"


@register("COGNITO_USER_POOLS")
class CognitoAuthorizer:
    def __init__(self, deps: AuthorizerDeps) -> None:
        self._verifier = deps.cognito or CognitoVerifier(endpoint=deps.base_env.get("AWS_ENDPOINT_URL"),
                                                         clients=lambda pool: deps.model.user_pool_clients.get(pool, set()))

    def authorize(self, request: HttpRequest, route: RouteSpec, call: AuthCall) -> AuthResult:
        authorizer = call.authorizer
        if authorizer is None or authorizer.type != "COGNITO_USER_POOLS":
            raise AuthFailure(INTERNAL, status=500,
                              reason=f"authorizer {route.authorizer_id} is not a deployed Cognito user pool authorizer")
        claims = self._verifier.verify(request.header(authorizer.header), authorizer, route.scopes)
        return AuthResult(authorizer={"claims": claims_as_strings(claims)})
