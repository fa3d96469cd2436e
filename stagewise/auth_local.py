"""Tokens for local stages: a confirmed user in the stage's local user pool, signed in.

`stagewise token EMAIL` uses this so that a developer can call the local API with
real Cognito tokens (verified by the local API Gateway like AWS verifies them).
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
