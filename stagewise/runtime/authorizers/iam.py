"""AWS_IAM: SigV4-signed requests, and the caller's IAM policies allowing `execute-api:Invoke`.

Data flow: the request → `sigv4.verify` (scope `<region>/execute-api`, ±5 min, the signature over
exactly the signed headers) with the secret of its key: a Cognito identity's (the local cloud's
identity key, read from its state dir, resolves the session token: identity, pool, role, expiry)
or a simulated account's own key (its root) → the caller's role policies from the local cloud's
IAM (cached a few seconds) evaluated for `execute-api:Invoke` on the method ARN with the
identity's policy variables → `requestContext.identity` as API Gateway fills it for IAM callers.
Every refusal is API Gateway's 403 with its wording; nothing unknown is let through.

Differences from AWS, by design: only the cloud's own credentials are known (identity credentials
and the simulated accounts' keys — not keys moto's IAM/STS issued); resource policies of the API
are not evaluated. The signature is checked over the request target exactly as received
(`HttpRequest.raw_path` / `raw_query`).
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

from stagewise import sigv4
from stagewise.cloud.identities import Identity, IdentityKeys, load_key
from stagewise.cloud.issuers import Issuer
from stagewise.iam_policy import Decision, RolePolicies, evaluate
from stagewise.runtime.authorizers.base import AuthCall, AuthFailure, AuthorizerDeps, AuthResult, register
from stagewise.runtime.events import HttpRequest
from stagewise.runtime.model import RouteSpec

POLICY_TTL_S = 2.0  # a redeploy's new policies apply within this
ACTION = "execute-api:Invoke"


def _forbidden(message: str, *, key: str = "message", reason: str = "") -> AuthFailure:
    return AuthFailure(message, status=403, key=key, reason=reason or message)


@register("AWS_IAM")
class IamAuthorizer:
    def __init__(self, deps: AuthorizerDeps) -> None:
        self.deps = deps
        self.endpoint = deps.base_env.get("AWS_ENDPOINT_URL", "")
        self._keys: IdentityKeys | None = None
        self._iam_clients: dict[str, Any] = {}
        self.roles = RolePolicies(self._iam, ttl=POLICY_TTL_S)

    @property
    def blocks(self) -> bool:
        """Off the event loop until the identity key and a role's policies have been read; after that
        the check is CPU only (policies are re-read in the background) and runs on the loop. A role
        never seen before is still read on the spot, once."""
        return self._keys is None or self.roles.empty()

    def _iam(self, account_id: str) -> Any:
        if account_id not in self._iam_clients:
            from stagewise.cloud.accounts import client

            self._iam_clients[account_id] = client(self.endpoint, account_id=account_id, region=self.deps.region,
                                                   service="iam")
        return self._iam_clients[account_id]

    def authorize(self, request: HttpRequest, route: RouteSpec, call: AuthCall) -> AuthResult:
        caller: dict[str, Any] = {}

        def secret_for(key_id: str, token: str | None) -> str:
            found = self._secret(key_id, token, call)
            caller.update(found)
            return found["secret"]

        try:
            sigv4.verify(_incoming(request), service="execute-api", region=call.api.region, secret_for=secret_for)
        except sigv4.SignatureError as exc:
            raise _forbidden(exc.message) from exc
        identity: Identity | None = caller.get("identity")
        if identity is not None:
            self._check_allowed(identity, call)
            return AuthResult(authorizer=None, identity=_identity_fields(identity, self._role_id(identity)))
        account = caller["account"]
        return AuthResult(authorizer=None, identity={
            "accountId": account, "caller": account, "user": account, "accessKey": caller["key"],
            "userArn": f"arn:aws:iam::{account}:root", "cognitoIdentityPoolId": None, "cognitoIdentityId": None,
            "cognitoAuthenticationType": None, "cognitoAuthenticationProvider": None})

    # -- credentials -------------------------------------------------------------------------------
    def _secret(self, key_id: str, token: str | None, call: AuthCall) -> dict[str, Any]:
        """The cloud's own credentials only (stagewise.cloud.issuers): identities' and accounts' keys."""
        issued = Issuer(self._identity_keys()).issued(key_id, token)
        if issued.identity is not None:
            return {"secret": issued.secret, "identity": issued.identity}
        return {"secret": issued.secret, "account": issued.account_id, "key": key_id}

    def _identity_keys(self) -> IdentityKeys:
        if self._keys is None:
            self._keys = IdentityKeys(load_key(_state_dir(self.endpoint)))
        return self._keys

    # -- policies ------------------------------------------------------------------------------
    def _check_allowed(self, identity: Identity, call: AuthCall) -> None:
        documents, _ = self._role(identity)
        resource = call.method_arn
        decision = evaluate(documents, action=ACTION, resource=resource,
                            variables={"cognito-identity.amazonaws.com:sub": identity.identity_id,
                                       "cognito-identity.amazonaws.com:aud": identity.pool_id,
                                       "aws:userid": f"{self._role_id(identity)}:{identity.session_name}"})
        if decision is Decision.ALLOW:
            return
        who = f"User: {identity.assumed_role_arn} is not authorized to perform: {ACTION} on resource: {resource}"
        if decision is Decision.DENY:
            raise _forbidden(f"{who} with an explicit deny", key="Message")
        raise _forbidden(who, key="Message")

    def _role(self, identity: Identity) -> tuple[list[dict[str, Any]], str]:
        return self.roles.of(identity.account_id, identity.role_arn)

    def _role_id(self, identity: Identity) -> str:
        return self._role(identity)[1]


def _identity_fields(identity: Identity, role_id: str) -> dict[str, Any]:
    """`requestContext.identity` of a request signed with Cognito identity credentials, as AWS fills it."""
    session = f"{role_id}:{identity.session_name}"
    return {
        "cognitoIdentityPoolId": identity.pool_id,
        "cognitoIdentityId": identity.identity_id,
        "cognitoAuthenticationType": "authenticated",
        "cognitoAuthenticationProvider": identity.provider or None,
        "accountId": identity.account_id,
        "caller": session,
        "user": session,
        "userArn": identity.assumed_role_arn,
        "accessKey": identity.access_key_id,
    }


def _incoming(request: HttpRequest) -> sigv4.Incoming:
    """The request as the client sent it: the target exactly as received (still percent-encoded, with
    the `/restapis/<id>/<stage>/_user_request_` prefix when it came that way), as the client signed it.
    A request built in-process (no raw target) is re-encoded as SigV4 clients encode it."""
    if request.raw_path:
        raw_path, raw_query = request.raw_path, request.raw_query
    else:
        raw_path = quote(request.path, safe="/~")
        raw_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in request.query)
    return sigv4.Incoming(request.method, raw_path, raw_query, dict(request.headers), request.body)


_STATE_DIRS: dict[str, Path] = {}


def _state_dir(endpoint: str) -> Path:
    """The local cloud's state dir, from its health answer (where its identity key lives)."""
    if endpoint not in _STATE_DIRS:
        with urllib.request.urlopen(f"{endpoint.rstrip('/')}/_stagewise/health", timeout=5) as answer:  # noqa: S310
            _STATE_DIRS[endpoint] = Path(json.loads(answer.read())["state_dir"])
    return _STATE_DIRS[endpoint]
