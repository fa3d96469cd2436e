"""Signing in to a local stage: a confirmed user in its user pool, signed in (`id_token`), and that
user's Cognito identity with its credentials from the identity pool (`identity_credentials`).

`stagewise token EMAIL` prints the ID token (for COGNITO_USER_POOLS methods); `stagewise
credentials EMAIL` and `stagewise call --as EMAIL` use the identity's credentials to sign requests
(SigV4, for AWS_IAM methods and straight-to-S3 uploads), as the seed's web client does.

A user's password is derived from a secret of the local cloud's state dir (`sign-in.json`, 0600,
wiped by `cloud reset`), which also remembers each stage's pool and client ids. So a user signed in
before takes one unsigned `InitiateAuth` over plain HTTP (`quick_id_token`): no AWS SDK, no stack
read — `stagewise token` answers in a fraction of the SDK's start-up. Anything else (a new user, a
pool recreated since, a cloud that is down) takes the full path, which reports the real problem.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagewise.cloud.layout import SIGN_IN_FILE
from stagewise.errors import UserError
from stagewise.fileio import write_atomically

if TYPE_CHECKING:
    from stagewise.localstage import LocalStage

_INITIATE_AUTH = "AWSCognitoIdentityProviderService.InitiateAuth"


def local_password() -> str:
    """A fresh password that satisfies Cognito's default policy (upper, lower, digit, symbol)."""
    return "Aa1!" + secrets.token_urlsafe(18)


def id_token(cognito: Any, *, pool_id: str, client_id: str, email: str, password: str | None = None) -> str:
    """Create `email` as a confirmed user if missing, set its password (`password`, else a fresh random
    one), sign in, return a fresh IdToken."""
    password = password or local_password()
    try:
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
    except cognito.exceptions.UsernameExistsException:
        pass
    except cognito.exceptions.InvalidParameterException as exc:
        raise UserError(f"Cognito refused '{email}': {exc.response['Error']['Message']}") from exc
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    return result["AuthenticationResult"]["IdToken"]


def identity_credentials(identity: Any, *, token: str, region: str, user_pool_id: str,
                         identity_pool_id: str) -> dict[str, Any]:
    """GetId + GetCredentialsForIdentity with the user's ID token (the calls need no signature):
    `{"identityId", "accessKeyId", "secretAccessKey", "sessionToken", "expiration"}`."""
    logins = {f"cognito-idp.{region}.amazonaws.com/{user_pool_id}": token}
    identity_id = identity.get_id(IdentityPoolId=identity_pool_id, Logins=logins)["IdentityId"]
    answer = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=logins)["Credentials"]
    return {"identityId": identity_id, "accessKeyId": answer["AccessKeyId"],
            "secretAccessKey": answer["SecretKey"], "sessionToken": answer["SessionToken"],
            "expiration": answer["Expiration"].isoformat()}


def sign_in(stage: str, email: str, *, overrides: list[str] | None = None) -> dict[str, Any]:
    """The identity credentials of `email` (created if missing) on a local stage."""
    from botocore import UNSIGNED
    from botocore.config import Config

    from stagewise.cloud.accounts import shared_client
    from stagewise.localstage import connect

    local = connect(stage, overrides=overrides)
    pool_id, client_id, identity_pool_id = local.output_values("UserPoolId", "UserPoolClientId", "IdentityPoolId")
    token = stage_user_token(local, email, pool=(pool_id, client_id))
    identity = shared_client("cognito-identity", region_name=local.region, endpoint_url=local.endpoint,
                             config=Config(signature_version=UNSIGNED))
    return identity_credentials(identity, token=token, region=local.region, user_pool_id=pool_id,
                                identity_pool_id=identity_pool_id) | {"region": local.region}


def stage_id_token(stage: str, email: str, *, overrides: list[str] | None = None) -> str:
    """A fresh IdToken of `email` on a local stage: the quick path when it can, else the full one."""
    from stagewise.cloud import LocalCloud, default_state_dir
    from stagewise.options import load_stage

    project, config = load_stage(stage, overrides)
    state_dir = default_state_dir()
    record = SignInRecord(state_dir / SIGN_IN_FILE)
    known = record.pool(project.accounts[config.account].id, config.name)
    if known is not None:
        token = quick_id_token(LocalCloud(state_dir).endpoint, client_id=known[1], email=email,
                               password=record.password(known[0], email))
        if token is not None:
            return token
    from stagewise.localstage import connect

    return stage_user_token(connect(stage, overrides=overrides), email)


def stage_user_token(local: LocalStage, email: str, *, pool: tuple[str, str] | None = None) -> str:
    """The full path: create `email` in the stage's pool if missing, give it its derived password, sign
    in with the SDK, and remember the pool so the next sign-in takes the quick path. `pool`: the
    stage's (user pool id, client id) when the caller has read them already (one read of every stack)."""
    pool_id, client_id = pool or local.output_values("UserPoolId", "UserPoolClientId")
    record = SignInRecord(local.target.state_dir / SIGN_IN_FILE) if local.target.state_dir else None
    password = record.password(pool_id, email) if record else None
    token = id_token(local.client("cognito-idp"), pool_id=pool_id, client_id=client_id, email=email,
                     password=password)
    if record is not None:
        record.remember(local.account_id, local.stage.name, pool_id, client_id)
    return token


def quick_id_token(endpoint: str, *, client_id: str, email: str, password: str) -> str | None:
    """One unsigned InitiateAuth (Cognito serves it unsigned, as AWS does); None when it does not sign
    the user in, for whatever reason — the caller then takes the full path, which explains failures."""
    body = json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
                       "AuthParameters": {"USERNAME": email, "PASSWORD": password}}).encode()
    request = urllib.request.Request(endpoint + "/", data=body, method="POST", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": _INITIATE_AUTH})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.loads(answer.read())["AuthenticationResult"]["IdToken"]
    except (OSError, ValueError, KeyError, TypeError):  # HTTPError is an OSError
        return None


class SignInRecord:
    """`sign-in.json` of a state dir: the secret local users' passwords derive from, and each stage's
    pool and client ids (per account, as stages of two accounts may share a name)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._data = json.loads(path.read_text())
        except (OSError, ValueError):
            self._data = {}
        if not isinstance(self._data, dict) or not isinstance(self._data.get("pools"), dict):
            self._data = {"pools": {}}

    def pool(self, account_id: str, stage: str) -> tuple[str, str] | None:
        found = self._data["pools"].get(f"{account_id}/{stage}")
        return (found["pool"], found["client"]) if isinstance(found, dict) and "pool" in found else None

    def password(self, pool_id: str, email: str) -> str:
        secret = self._data.get("secret")
        if not isinstance(secret, str):
            secret = self._data["secret"] = secrets.token_hex(32)
            self._save()
        digest = hmac.new(bytes.fromhex(secret), f"{pool_id}\n{email}".encode(), hashlib.sha256).digest()
        return "Aa1!" + base64.urlsafe_b64encode(digest).decode().rstrip("=")  # Cognito's default policy

    def remember(self, account_id: str, stage: str, pool_id: str, client_id: str) -> None:
        if self.pool(account_id, stage) != (pool_id, client_id):
            self._data["pools"][f"{account_id}/{stage}"] = {"pool": pool_id, "client": client_id}
            self._save()

    def _save(self) -> None:
        write_atomically(self.path, json.dumps(self._data).encode(), mode=0o600)
