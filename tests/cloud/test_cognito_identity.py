"""The local identity pool behaves like Cognito Identity: one stable identity per login, unsigned
GetId in the pool's own account, expiring credentials of the pool's authenticated role that belong
to that identity alone, and login tokens checked (forged, expired, another client's: refused)."""

from __future__ import annotations

import time

import boto3
import pytest
from botocore.exceptions import ClientError

from stagewise.cloud import LocalCloud
from stagewise.cloud.identities import EXPIRED, INVALID, CredentialError, IdentityKeys, load_key
from tests.cloud.conftest import ACCOUNT_B, REGION, make_client
from tests.cloud.identity_pool import deploy_pool, logins, token_for, unsigned


@pytest.fixture
def pool(cloud: LocalCloud) -> dict[str, str]:
    return deploy_pool(cloud)


def test_one_stable_identity_per_login_and_credentials_of_the_pools_role(cloud: LocalCloud, pool) -> None:
    identity = unsigned(cloud)
    ann = logins(pool, token_for(cloud, pool, "ann@example.com"))
    first = identity.get_id(IdentityPoolId=pool["IdentityPool"], Logins=ann)["IdentityId"]
    again = identity.get_id(IdentityPoolId=pool["IdentityPool"],
                            Logins=logins(pool, token_for(cloud, pool, "ann@example.com")))["IdentityId"]
    bob = identity.get_id(IdentityPoolId=pool["IdentityPool"],
                          Logins=logins(pool, token_for(cloud, pool, "bob@example.com")))["IdentityId"]
    assert first == again != bob and first.startswith(f"{REGION}:")

    answer = identity.get_credentials_for_identity(IdentityId=first, Logins=ann)
    creds = answer["Credentials"]
    assert answer["IdentityId"] == first
    assert creds["AccessKeyId"].startswith(f"LI{ACCOUNT_B}") and len(creds["AccessKeyId"]) == 20
    assert 3500 < creds["Expiration"].timestamp() - time.time() <= 3600
    keys = IdentityKeys(load_key(cloud.state_dir))
    who = keys.resolve(creds["AccessKeyId"], creds["SessionToken"])
    assert (who.identity_id, who.pool_id, who.role_arn) == (first, pool["IdentityPool"], pool["RoleArn"])
    assert who.secret_access_key == creds["SecretKey"]
    signed = make_client(cloud, "cognito-identity", ACCOUNT_B)  # AWS answers this one only signed
    assert signed.get_identity_pool_roles(IdentityPoolId=pool["IdentityPool"])["Roles"] == {
        "authenticated": pool["RoleArn"]}

    # signed with the identity's credentials, a request acts in the pool's account, as the pool's role
    s3 = boto3.session.Session().client(
        "s3", region_name=REGION, endpoint_url=cloud.endpoint, aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretKey"], aws_session_token=creds["SessionToken"])
    s3.put_object(Bucket="ids-uploads", Key=f"private/{first}/a.txt", Body=b"mine")
    owner = make_client(cloud, "s3", ACCOUNT_B).get_object(Bucket="ids-uploads", Key=f"private/{first}/a.txt")
    assert owner["Body"].read() == b"mine"


def test_forged_expired_and_foreign_logins_are_refused(cloud: LocalCloud, pool) -> None:
    identity = unsigned(cloud)
    good = token_for(cloud, pool, "ann@example.com")
    head, body, signature = good.split(".")
    forged = ".".join([head, body, signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")])
    other_client = token_for(cloud, pool, "ann@example.com", client="Other")
    for token in (forged, other_client, "not-a-jwt"):
        with pytest.raises(ClientError) as caught:
            identity.get_id(IdentityPoolId=pool["IdentityPool"], Logins=logins(pool, token))
        assert caught.value.response["Error"]["Code"] == "NotAuthorizedException"
    with pytest.raises(ClientError) as caught:
        identity.get_id(IdentityPoolId=pool["IdentityPool"])
    assert caught.value.response["Error"]["Message"] == "Unauthenticated access is not supported for this identity pool."
    first = identity.get_id(IdentityPoolId=pool["IdentityPool"], Logins=logins(pool, good))["IdentityId"]
    bob = logins(pool, token_for(cloud, pool, "bob@example.com"))
    with pytest.raises(ClientError, match="do not belong to this identity"):
        identity.get_credentials_for_identity(IdentityId=first, Logins=bob)
    with pytest.raises(ClientError) as caught:
        identity.get_id(IdentityPoolId=f"{REGION}:00000000-0000-0000-0000-000000000000", Logins=logins(pool, good))
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_identity_credentials_are_refused_when_altered_reused_or_expired(tmp_path) -> None:
    keys = IdentityKeys(load_key(tmp_path))
    issued = keys.issue(account_id="111111111111", identity_id="us-east-1:x", pool_id="us-east-1:p",
                        role_arn="arn:aws:iam::111111111111:role/r", now=1000.0)
    other = keys.issue(account_id="111111111111", identity_id="us-east-1:y", pool_id="us-east-1:p",
                       role_arn="arn:aws:iam::111111111111:role/r", now=1000.0)
    assert keys.resolve(issued["AccessKeyId"], issued["SessionToken"], now=1001).identity_id == "us-east-1:x"
    payload, mac = issued["SessionToken"].rsplit(".", 1)
    for key, token in ((issued["AccessKeyId"], payload + "." + mac[::-1]),  # altered
                       (issued["AccessKeyId"], other["SessionToken"]),  # another identity's token
                       ("AKIAIOSFODNN7EXAMPLE", issued["SessionToken"])):  # not a key of ours
        with pytest.raises(CredentialError) as caught:
            keys.resolve(key, token, now=1001)
        assert caught.value.message == INVALID
    with pytest.raises(CredentialError) as caught:
        keys.resolve(issued["AccessKeyId"], issued["SessionToken"], now=1000 + 3600)
    assert caught.value.message == EXPIRED and caught.value.expired
    assert (tmp_path / "identity.key").stat().st_mode & 0o777 == 0o600
    assert IdentityKeys(load_key(tmp_path)).resolve(issued["AccessKeyId"], issued["SessionToken"], now=1001)
