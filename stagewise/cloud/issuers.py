"""The keys the local cloud issued, and what a signature made with one is checked against.

`Issuer.issued(key id, session token)` answers the key's account, secret, token and expiry, or
raises `SignatureError` with AWS's wording (its `kind` says which refusal it is):
- a simulated account's key (`LKIA<account>LOCL`): secret and token derived from the account id
  (cloud/accounts.py); the token may be left out;
- a Cognito identity's key (`LI…`): resolved by the cloud's identity key (cloud/identities.py);
- any other key: what `moto_key` knows of it (moto's IAM access keys and STS sessions; only the
  cloud's own process can ask moto), else unknown.
The local cloud's guard and the local API Gateway's AWS_IAM plug-in both check signatures with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from stagewise.cloud.identities import CredentialError, Identity, IdentityKeys, is_identity_key
from stagewise.sigv4 import SignatureError

INVALID = "The security token included in the request is invalid."


@dataclass(frozen=True)
class Issued:
    account_id: str
    secret: str
    token: str | None = None
    expires_at: float | None = None  # epoch seconds
    identity: Identity | None = None


KeyLookup = Callable[[str], Issued | None]


class Issuer:
    def __init__(self, keys: IdentityKeys, *, moto_key: KeyLookup = lambda key_id: None) -> None:
        self.keys = keys
        self.moto_key = moto_key

    def issued(self, key_id: str, token: str | None) -> Issued:
        if is_identity_key(key_id):
            try:
                identity = self.keys.resolve(key_id, token)
            except CredentialError as exc:
                raise SignatureError(exc.message, kind="ExpiredToken" if exc.expired else "InvalidToken") from exc
            return Issued(identity.account_id, identity.secret_access_key, token, identity.expires_at, identity)
        from stagewise.cloud.accounts import LOCAL_KEY, credentials

        local = LOCAL_KEY.fullmatch(key_id)
        if local is not None:
            own = credentials("", local.group(1))
            issued: Issued | None = Issued(local.group(1), own["AWS_SECRET_ACCESS_KEY"], own["AWS_SESSION_TOKEN"])
        else:
            issued = self.moto_key(key_id)
        if issued is None:
            raise SignatureError(INVALID, kind="UnknownKey")
        # a simulated account's key may come without its token; a session's never
        token_required = issued.token is not None and (local is None or token is not None)
        if token_required and token != issued.token:
            raise SignatureError(INVALID, kind="InvalidToken")
        if issued.expires_at is not None and issued.expires_at <= time.time():
            raise SignatureError("The security token included in the request is expired", kind="ExpiredToken")
        return issued
