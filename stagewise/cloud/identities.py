"""Credentials of Cognito identities in the local cloud: issued by its identity pools, checked by
anything that verifies a signature (the local API Gateway's AWS_IAM, the cloud itself).

Nothing is stored per credential. A key pair is derived from a key kept in the cloud's state dir
(`identity.key`, 0600, made on first use, wiped by `cloud reset`):
- the access key id `LI<account><6 random>` names the account it acts in (20 characters, like AWS's);
- the secret is an HMAC of the access key id;
- the session token carries the identity (its id, pool, role, expiry, access key id) and an HMAC
  of it, so a verifier learns who signed and refuses a token that was altered, reused with
  another key, or is past its expiry.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from stagewise.cloud.layout import IDENTITY_KEY_FILE

KEY_ID = re.compile(r"^LI(\d{12})[A-Z2-7]{6}$")
LIFETIME_S = 3600  # what GetCredentialsForIdentity gives on AWS


class CredentialError(Exception):
    """Credentials that are not the cloud's, were altered, or have expired; `message` is AWS's wording."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.expired = expired


INVALID = "The security token included in the request is invalid."
EXPIRED = "The security token included in the request is expired"


@dataclass(frozen=True)
class Identity:
    """Who a set of identity credentials belongs to."""

    account_id: str
    identity_id: str
    pool_id: str
    role_arn: str
    expires_at: int
    access_key_id: str
    secret_access_key: str
    provider: str = ""  # requestContext.identity.cognitoAuthenticationProvider: the login it came from

    @property
    def session_name(self) -> str:
        return "CognitoIdentityCredentials"

    @property
    def assumed_role_arn(self) -> str:
        role = self.role_arn.rsplit("/", 1)[-1]
        return f"arn:aws:sts::{self.account_id}:assumed-role/{role}/{self.session_name}"


def load_key(state_dir: Path) -> bytes:
    """The cloud's identity key, made (readable by its owner only) on first use."""
    path = state_dir / IDENTITY_KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        state_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made meanwhile by another process
            return path.read_bytes()
        with os.fdopen(fd, "wb") as out:
            out.write(key)
            out.flush()
            os.fsync(out.fileno())
        return key


class IdentityKeys:
    """Issues and resolves identity credentials with one cloud's key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        # dev's AWS_IAM check resolves the caller's key and token on every request (the cloud's guard,
        # every call made with them), and they stay the same for their hour: what they prove is kept,
        # the expiry is still checked on every call. Refused credentials are never kept.
        self._verified = functools.lru_cache(maxsize=1024)(self._verify)

    def _mac(self, purpose: str, text: str) -> str:
        return hmac.new(self._key, f"{purpose}:{text}".encode(), hashlib.sha256).hexdigest()

    def _secret(self, access_key_id: str) -> str:
        digest = hmac.new(self._key, f"secret:{access_key_id}".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()[:40]

    def issue(self, *, account_id: str, identity_id: str, pool_id: str, role_arn: str, provider: str = "",
              now: float | None = None) -> dict[str, object]:
        """GetCredentialsForIdentity's `Credentials` (Expiration as epoch seconds) for one identity."""
        suffix = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(6))
        key_id = f"LI{account_id}{suffix}"
        expires = int((now if now is not None else time.time()) + LIFETIME_S)
        claims = {"a": account_id, "i": identity_id, "p": pool_id, "r": role_arn, "e": expires, "k": key_id,
                  "v": provider}
        payload = base64.urlsafe_b64encode(json.dumps(claims, sort_keys=True).encode()).decode().rstrip("=")
        token = f"{payload}.{self._mac('token', payload)}"
        return {"AccessKeyId": key_id, "SecretKey": self._secret(key_id), "SessionToken": token,
                "Expiration": expires}

    def resolve(self, access_key_id: str, session_token: str | None, *, now: float | None = None) -> Identity:
        """The identity behind a key and its token, or CredentialError."""
        identity = self._verified(access_key_id, session_token)
        if identity.expires_at <= (now if now is not None else time.time()):
            raise CredentialError(EXPIRED, expired=True)
        return identity

    def _verify(self, access_key_id: str, session_token: str | None) -> Identity:
        """What an unaltered token of this key says, or CredentialError (its expiry is the caller's)."""
        if not KEY_ID.match(access_key_id or "") or not session_token or "." not in session_token:
            raise CredentialError(INVALID)
        payload, _, mac = session_token.rpartition(".")
        if not hmac.compare_digest(mac, self._mac("token", payload)):
            raise CredentialError(INVALID)
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if claims["k"] != access_key_id:
            raise CredentialError(INVALID)
        return Identity(claims["a"], claims["i"], claims["p"], claims["r"], claims["e"], access_key_id,
                        self._secret(access_key_id), claims.get("v", ""))


def is_identity_key(access_key_id: str) -> bool:
    return bool(KEY_ID.match(access_key_id or ""))


def account_of(access_key_id: str) -> str | None:
    found = KEY_ID.match(access_key_id or "")
    return found.group(1) if found else None
