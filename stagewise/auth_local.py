"""Signing in to a local stage: a confirmed user in its user pool, signed in (`id_token`), and that
user's Cognito identity with its credentials from the identity pool (`identity_credentials`).

`stagewise token EMAIL` prints the ID token (for COGNITO_USER_POOLS methods); `stagewise
credentials EMAIL` and `stagewise call --as EMAIL` use the identity's credentials to sign requests
(SigV4, for AWS_IAM methods and straight-to-S3 uploads), as the seed's web client does.
"""

from __future__ import annotations

import secrets
from typing import Any

from stagewise.errors import UserError


def local_password() -> str:
    """A fresh password that satisfies Cognito's default policy (upper, lower, digit, symbol)."""
    return "Aa1!" + secrets.token_urlsafe(18)


def id_token(cognito: Any, *, pool_id: str, client_id: str, email: str) -> str:
    """Create `email` as a confirmed user if missing, sign in, return a fresh IdToken."""
    password = local_password()
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
    pool_id = local.output("UserPoolId")
    token = id_token(local.client("cognito-idp"), pool_id=pool_id, client_id=local.output("UserPoolClientId"),
                     email=email)
    identity = shared_client("cognito-identity", region_name=local.region, endpoint_url=local.endpoint,
                             config=Config(signature_version=UNSIGNED))
    return identity_credentials(identity, token=token, region=local.region, user_pool_id=pool_id,
                                identity_pool_id=local.output("IdentityPoolId")) | {"region": local.region}
