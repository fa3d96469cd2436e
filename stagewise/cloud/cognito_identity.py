"""Cognito Identity's sign-in calls in the local cloud, as AWS answers them (moto's do not: a new
random identity on every GetId, the same fixed keys for everyone, and an unsigned call lands in
the wrong account).

Data flow: the cloud's app hands a `AWSCognitoIdentityService.<Action>` request (JSON protocol)
to `CognitoIdentity.serve`:
- `GetId` — works unsigned, in the account that owns the pool (found among moto's pools); each
  login token is verified (the user pool's signature, expiry, audience = one of the pool's app
  clients, an ID token) and the identity id is derived from (pool, provider, subject): one stable
  id per login, with nothing to store.
- `GetCredentialsForIdentity` — the logins again, the pool's authenticated role (its
  `AWS::Cognito::IdentityPoolRoleAttachment`, read from the provisioner's stack state), and
  credentials of that role for that identity alone (cloud/identities.py), valid one hour.
- `GetIdentityPoolRoles` — the attachment's roles.
Every other Cognito Identity action goes to moto. Nothing here is journaled: the answers are
functions of the cloud's state and its identity key.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from stagewise.cloud.identities import IdentityKeys

TARGET = "AWSCognitoIdentityService."
SERVED = frozenset({"GetId", "GetCredentialsForIdentity", "GetIdentityPoolRoles"})
NAMESPACE = uuid.UUID("8f0e5f7e-4c55-4f57-9a6b-7a1c1de0f1a7")  # identity ids: uuid5 of pool/provider/sub
StatesOf = Callable[[str, str], list[Any]]  # (account, region) -> the provisioner's StackStates


class IdentityError(Exception):
    def __init__(self, kind: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


@dataclass(frozen=True)
class Pool:
    account_id: str
    region: str
    pool_id: str
    providers: tuple[tuple[str, str], ...]  # (provider name, client id)
    allow_unauthenticated: bool


def _existing(backends: Any, account_id: str, region: str) -> Any:
    """moto's backend of an account and region if it exists (indexing would create one)."""
    regions = dict.get(backends, account_id)
    return dict.get(regions, region) if regions is not None else None


def action_of(environ: dict[str, Any]) -> str | None:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    return target[len(TARGET):] if target.startswith(TARGET) else None


def serves(environ: dict[str, Any]) -> bool:
    return action_of(environ) in SERVED


class CognitoIdentity:
    """`moto_lock` guards reads of moto's backends; `states_of` reads stack states (not under it)."""

    def __init__(self, keys: IdentityKeys, *, moto_lock: Any, states_of: StatesOf, signing_key: Any) -> None:
        """`signing_key`: what the local user pools sign ID tokens with (cloud/userpool_keys.py)."""
        self.keys = keys
        self.signing_key = signing_key
        self.moto_lock = moto_lock
        self.states_of = states_of

    def serve(self, environ: dict[str, Any], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            params = json.loads(body or b"{}")
            result = getattr(self, "_" + (action_of(environ) or ""))(params)
            status = 200
        except IdentityError as exc:
            result, status = {"__type": exc.kind, "message": exc.message}, exc.status
        except (ValueError, KeyError, TypeError) as exc:
            result, status = {"__type": "InvalidParameterException", "message": f"invalid request: {exc}"}, 400
        payload = json.dumps(result).encode()
        return status, [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(payload)))], payload

    # -- actions -------------------------------------------------------------------------------
    def _GetId(self, p: dict[str, Any]) -> dict[str, Any]:  # noqa: N802 (AWS's action names)
        pool = self._pool(p["IdentityPoolId"])
        return {"IdentityId": self._identity(pool, p.get("Logins") or {})[0]}

    def _GetCredentialsForIdentity(self, p: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        identity_id = p["IdentityId"]
        logins = p.get("Logins") or {}
        if not logins:
            raise IdentityError("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.")
        for pool in self._pools(identity_id.split(":", 1)[0]):
            if not any(name in logins for name, _ in pool.providers):
                continue
            found, provider = self._identity(pool, logins)
            if found == identity_id:
                role = self._roles(pool).get("authenticated")
                if not role:
                    raise IdentityError("InvalidIdentityPoolConfigurationException",
                                        "Invalid identity pool configuration. Check assigned IAM roles for this pool.")
                credentials = self.keys.issue(account_id=pool.account_id, identity_id=identity_id,
                                              pool_id=pool.pool_id, role_arn=role, provider=provider)
                return {"IdentityId": identity_id, "Credentials": credentials}
        raise IdentityError("NotAuthorizedException", "Invalid login token. The logins do not belong to this identity.")

    def _GetIdentityPoolRoles(self, p: dict[str, Any]) -> dict[str, Any]:  # noqa: N802
        pool = self._pool(p["IdentityPoolId"])
        return {"IdentityPoolId": pool.pool_id, "Roles": self._roles(pool)}

    # -- helpers -------------------------------------------------------------------------------
    def _identity(self, pool: Pool, logins: dict[str, str]) -> tuple[str, str]:
        """The identity id of these logins, and how API Gateway names its provider
        (`cognito-idp…/<pool>,cognito-idp…/<pool>:CognitoSignIn:<sub>`)."""
        if not logins:
            if pool.allow_unauthenticated:
                raise IdentityError("NotAuthorizedException", "Unauthenticated identities are not emulated locally.")
            raise IdentityError("NotAuthorizedException", "Unauthenticated access is not supported for this identity pool.")
        subjects = []
        for provider, token in sorted(logins.items()):
            client_id = dict(pool.providers).get(provider)
            if client_id is None:
                raise IdentityError("NotAuthorizedException", f"Invalid login token. Provider {provider} is not "
                                    f"configured for identity pool {pool.pool_id}.")
            subjects.append((provider, self._subject(pool, provider, client_id, token)))
        provider, sub = subjects[0]
        identity_id = f"{pool.region}:{uuid.uuid5(NAMESPACE, pool.pool_id + '|' + provider + '|' + sub)}"
        return identity_id, f"{provider},{provider}:CognitoSignIn:{sub}"

    def _subject(self, pool: Pool, provider: str, client_id: str, token: str) -> str:
        """The `sub` of a valid ID token of the provider's user pool, or NotAuthorizedException."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        user_pool_id = provider.rsplit("/", 1)[-1]
        with self.moto_lock:
            self._user_pool(pool, user_pool_id)
        try:
            claims = jwt.decode(token, self.signing_key, algorithms=["RS256"]).claims
        except (JoseError, ValueError) as exc:
            raise IdentityError("NotAuthorizedException", f"Invalid login token. {type(exc).__name__}") from exc
        if claims.get("exp", 0) <= time.time():
            raise IdentityError("NotAuthorizedException", "Invalid login token. Token expired: the ID token has expired.")
        if claims.get("token_use") != "id" or claims.get("aud") != client_id:
            raise IdentityError("NotAuthorizedException", "Invalid login token. Not a valid ID token for this provider.")
        if not str(claims.get("iss", "")).endswith(f"/{user_pool_id}"):
            raise IdentityError("NotAuthorizedException", "Invalid login token. Issuer doesn't match providerName")
        return str(claims["sub"])

    def _user_pool(self, pool: Pool, user_pool_id: str) -> Any:
        from moto.cognitoidp.models import cognitoidp_backends

        backend = _existing(cognitoidp_backends, pool.account_id, pool.region)
        user_pool = backend.user_pools.get(user_pool_id) if backend is not None else None
        if user_pool is None:
            raise IdentityError("NotAuthorizedException", f"Invalid login token. User pool {user_pool_id} not found.")
        return user_pool

    def _pool(self, pool_id: str) -> Pool:
        found = next((pool for pool in self._pools(pool_id.split(":", 1)[0]) if pool.pool_id == pool_id), None)
        if found is None:
            raise IdentityError("ResourceNotFoundException", f"IdentityPool '{pool_id}' not found.")
        return found

    def _pools(self, region: str) -> Iterator[Pool]:
        from moto.cognitoidentity.models import cognitoidentity_backends

        with self.moto_lock:
            found = [Pool(account_id, region, pool.identity_pool_id,
                          tuple((p.get("ProviderName", ""), p.get("ClientId", ""))
                                for p in pool.cognito_identity_providers or []),
                          bool(pool.allow_unauthenticated_identities))
                     for account_id in list(dict.keys(cognitoidentity_backends))
                     for backend in [_existing(cognitoidentity_backends, account_id, region)] if backend is not None
                     for pool in list(backend.identity_pools.values())]
        yield from found

    def _roles(self, pool: Pool) -> dict[str, str]:
        for state in self.states_of(pool.account_id, pool.region):
            for resource in state.resources.values():
                if (resource.type == "AWS::Cognito::IdentityPoolRoleAttachment"
                        and resource.properties.get("IdentityPoolId") == pool.pool_id):
                    return dict(resource.properties.get("Roles") or {})
        return {}
