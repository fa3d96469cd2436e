"""Tokens nobody else can mint: the local user pools sign with a key made on this machine (kept
across restarts), publish it as their JWKS, and a token signed with moto's bundled key is refused."""

from __future__ import annotations

import httpx
import jwt
import pytest
from botocore.exceptions import ClientError
from joserfc import jwt as jose_jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource

from stagewise.cloud import LocalCloud
from tests.cloud.identity_pool import deploy_pool, logins, token_for, unsigned
from tests.cloud.test_durability import kill_and_restart


def verify(cloud: LocalCloud, pool_id: str, token: str) -> dict:
    keys = httpx.get(f"{cloud.endpoint}/{pool_id}/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(token)["kid"]
    match = [k for k in keys["keys"] if k["kid"] == kid]
    if not match:
        raise jwt.InvalidTokenError(f"no key {kid} in the pool's JWKS")
    return jwt.decode(token, jwt.PyJWK(match[0]).key, algorithms=["RS256"], options={"verify_aud": False})


def forged_with_motos_key(token: str) -> str:
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["sub"] = "someone-else"
    motos_key = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))  # ships with moto
    return jose_jwt.encode({"kid": "dummy", "alg": "RS256"}, claims, motos_key)


def test_tokens_are_signed_with_this_installs_key_and_forgeries_are_refused(cloud: LocalCloud) -> None:
    pool = deploy_pool(cloud)
    token = token_for(cloud, pool, "ann@example.com")
    assert jwt.get_unverified_header(token)["kid"].startswith("stagewise-")
    assert verify(cloud, pool["UserPool"], token)["email"] == "ann@example.com"
    forged = forged_with_motos_key(token)
    with pytest.raises(jwt.InvalidTokenError):
        verify(cloud, pool["UserPool"], forged)
    with pytest.raises(ClientError) as caught:
        unsigned(cloud).get_id(IdentityPoolId=pool["IdentityPool"], Logins=logins(pool, forged))
    assert caught.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert (cloud.state_dir / "userpool.key").stat().st_mode & 0o777 == 0o600

    kill_and_restart(cloud)  # the same key after a restart: a token issued before still verifies
    assert verify(cloud, pool["UserPool"], token)["email"] == "ann@example.com"
