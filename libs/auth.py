"""Who is calling: the Cognito identity API Gateway verified and put in a REST (v1) proxy event.

Data flow: the methods use `AWS_IAM` authorization, as the seed's do. A client signs in to the
user pool, trades the token for a Cognito identity and its credentials in the identity pool, and
signs each request (SigV4, service `execute-api`); API Gateway verifies the signature, checks the
identity's role may `execute-api:Invoke` the method, and fills `event.requestContext.identity`
(`cognitoIdentityId`, `cognitoIdentityPoolId`, `cognitoAuthenticationType`, ...).
`caller_id(event)` reads the identity id from there — the same id the identity pool's role
policies know as `${cognito-identity.amazonaws.com:sub}`. Handlers never verify anything
themselves; an event without an authenticated identity means the route was deployed without
IAM authorization (or was called with an account's own keys), which handlers answer with 401
(defence in depth).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def identity(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """`requestContext.identity` of the request ({} when there is none)."""
    context = event.get("requestContext") or {}
    found = context.get("identity") if isinstance(context, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def caller_id(event: Mapping[str, Any]) -> str | None:
    """The caller's Cognito identity id (`us-east-1:…`), or None without an authenticated identity."""
    found = identity(event)
    identity_id = found.get("cognitoIdentityId")
    if found.get("cognitoAuthenticationType") != "authenticated":
        return None
    return identity_id if isinstance(identity_id, str) and identity_id else None
