"""Verify Cognito user pool tokens the way an API Gateway COGNITO_USER_POOLS authorizer does.

Data flow: the token from the authorizer's header (raw, as API Gateway expects; a
"Bearer " prefix is tolerated) → `CognitoVerifier.verify()` → the token's claims, or
an `AuthFailure` carrying API Gateway's own status and body. The signature is checked
against the pool's JWKS, fetched once per pool from `<endpoint>/<pool>/.well-known/jwks.json`
(moto serves it; on AWS it is cognito-idp.<region>.amazonaws.com) and refetched once when
a token names an unknown key. Then `exp`, `iss` (one of the authorizer's pools), and
the audience: with no OAuth scopes on the method API Gateway wants an *id* token whose
`aud` is an app client of the pool; with scopes it wants an *access* token carrying one.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import jwt

from stagewise.runtime.model import AuthorizerSpec

UNAUTHORIZED = "Unauthorized"
EXPIRED = "The incoming token has expired"
_LEEWAY_S = 0
_REFETCH_AFTER_S = 30.0

ClientsLookup = Callable[[str], set[str]]


class AuthFailure(Exception):
    """The request is refused; `status` and `message` are what API Gateway answers.

    `message=None` gives `{"message": null}` (API Gateway's body for an authorizer configuration
    error); `key` is the body's key (API Gateway spells it `Message` when a Lambda authorizer's
    policy denies). `reason` is logged on the console, never sent.
    """

    def __init__(self, message: str | None = UNAUTHORIZED, *, status: int = 401, reason: str = "",
                 key: str = "message") -> None:
        self.reason = reason or message or "authorizer configuration error"
        super().__init__(self.reason)
        self.status = status
        self.message = message
        self.key = key


@dataclass
class _KeySet:
    keys: jwt.PyJWKSet
    fetched_at: float


class CognitoVerifier:
    def __init__(self, *, endpoint: str | None, clients: ClientsLookup, timeout_s: float = 5.0) -> None:
        """`endpoint`: the local cloud (JWKS at <endpoint>/<pool>/...); None means real AWS Cognito."""
        self._endpoint = endpoint.rstrip("/") if endpoint else None
        self._clients = clients
        self._timeout_s = timeout_s
        self._cache: dict[str, _KeySet] = {}
        self._lock = threading.Lock()

    def verify(self, header_value: str | None, authorizer: AuthorizerSpec, scopes: tuple[str, ...] = ()) -> dict:
        token = _token_from_header(header_value)
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthFailure(reason=f"not a JWT: {exc}") from exc
        region, pool_id = self._pool_for(unverified.get("iss"), authorizer)
        key = self._signing_key(region, pool_id, header.get("kid"))
        claims = self._decode(token, key, issuer=f"https://cognito-idp.{region}.amazonaws.com/{pool_id}")
        self._check_audience(claims, pool_id, scopes)
        return claims

    def prefetch(self, pools: Iterable[tuple[str, str]]) -> None:
        """Fetch the JWKS of these (region, pool id)s now, so the first request does not wait for it.

        A failure is left for that request to report (it fetches again).
        """
        for region, pool_id in pools:
            try:
                self._keyset(region, pool_id, refresh=False)
            except AuthFailure:
                pass

    def _pool_for(self, issuer: object, authorizer: AuthorizerSpec) -> tuple[str, str]:
        for region, pool_id in authorizer.user_pools:
            if issuer == f"https://cognito-idp.{region}.amazonaws.com/{pool_id}":
                return region, pool_id
        raise AuthFailure(reason=f"issuer {issuer!r} is not a user pool of authorizer {authorizer.name}")

    def _decode(self, token: str, key: jwt.PyJWK, *, issuer: str) -> dict:
        try:
            return jwt.decode(
                token, key=key, algorithms=["RS256"], issuer=issuer, leeway=_LEEWAY_S,
                options={"verify_aud": False, "require": ["exp", "iss", "token_use"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthFailure(EXPIRED, reason="token expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthFailure(reason=f"token rejected: {exc}") from exc

    def _check_audience(self, claims: dict, pool_id: str, scopes: tuple[str, ...]) -> None:
        use = claims.get("token_use")
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if use != "access" or not granted.intersection(scopes):
                raise AuthFailure(reason=f"method needs an access token with one of the scopes {list(scopes)}")
            audience = claims.get("client_id")
        else:
            if use != "id":
                raise AuthFailure(reason="method has no OAuth scopes, so API Gateway wants an id token")
            audience = claims.get("aud")
        if audience not in self._clients(pool_id):
            raise AuthFailure(reason=f"audience {audience!r} is not an app client of pool {pool_id}")

    def _signing_key(self, region: str, pool_id: str, kid: str | None) -> jwt.PyJWK:
        keyset = self._keyset(region, pool_id, refresh=False)
        key = _find(keyset, kid)
        if key is None and time.monotonic() - keyset.fetched_at > _REFETCH_AFTER_S:
            key = _find(self._keyset(region, pool_id, refresh=True), kid)
        if key is None:
            raise AuthFailure(reason=f"no key {kid!r} in the JWKS of pool {pool_id}")
        return key

    def _keyset(self, region: str, pool_id: str, *, refresh: bool) -> _KeySet:
        with self._lock:
            cached = self._cache.get(pool_id)
            if cached is not None and not refresh:
                return cached
            base = self._endpoint or f"https://cognito-idp.{region}.amazonaws.com"
            url = f"{base}/{pool_id}/.well-known/jwks.json"
            try:
                with urllib.request.urlopen(url, timeout=self._timeout_s) as response:  # noqa: S310
                    data = json.loads(response.read())
                keyset = _KeySet(jwt.PyJWKSet.from_dict(data), time.monotonic())
            except (OSError, ValueError, jwt.PyJWTError) as exc:
                raise AuthFailure("Internal server error", status=500, reason=f"cannot fetch the JWKS of pool {pool_id} from {url}: {exc}") from exc
            self._cache[pool_id] = keyset
            return keyset


def _find(keyset: _KeySet, kid: str | None) -> jwt.PyJWK | None:
    for key in keyset.keys.keys:
        if key.key_id == kid:
            return key
    return None


def _token_from_header(value: str | None) -> str:
    if value is None or not value.strip():
        raise AuthFailure(reason="no token in the authorizer's header")
    token = value.strip()
    if token[:7].lower() == "bearer ":
        token = token[7:].strip()
    return token
