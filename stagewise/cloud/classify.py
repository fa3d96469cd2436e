"""Decides whether a request can change moto's state (and so must be journaled).

Data flow: the server passes the request's environ and body to `is_mutating`; the
action name comes from `X-Amz-Target` (JSON protocols), else `Action=` in the query
string or form body (query protocols), else the HTTP method (REST protocols: S3,
API Gateway, Lambda, the moto-api). Conservative: an action we cannot name, or one
that reads but also records something (Cognito Identity `GetId`, STS tokens), is
treated as mutating.
"""

from __future__ import annotations

from urllib.parse import parse_qs

READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "Head")
# Named like reads, but moto stores something when they run.
READS_THAT_WRITE = frozenset(
    {
        "GetId",
        "GetOpenIdToken",
        "GetOpenIdTokenForDeveloperIdentity",
        "GetCredentialsForIdentity",
        "GetSessionToken",
        "GetFederationToken",
    }
)
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM = "application/x-www-form-urlencoded"


def action_of(environ: dict, body: bytes) -> str | None:
    """The AWS action name of a request, when its protocol carries one."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    actions = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if not actions and environ.get("CONTENT_TYPE", "").startswith(FORM) and body:
        actions = parse_qs(body.decode("utf-8", "replace")).get("Action")
    return actions[0] if actions else None


def is_read_action(action: str) -> bool:
    return action.startswith(READ_PREFIXES) and action not in READS_THAT_WRITE


def is_mutating(environ: dict, body: bytes) -> bool:
    action = action_of(environ, body)
    if action is not None:
        return not is_read_action(action)
    return environ.get("REQUEST_METHOD", "POST").upper() not in READ_METHODS
