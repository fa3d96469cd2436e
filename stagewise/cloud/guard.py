"""What the local cloud checks before moto sees a request: the signatures it can verify, and what a
Cognito identity's credentials may do.

Data flow: the cloud's app hands every request (not its own health/SMS paths) to `Guard.check`:
- signed with a Cognito identity's credentials (`LI…` keys, cloud/identities.py): the SigV4
  signature — header or presigned URL — is verified with the identity's secret, the session token
  must be the cloud's, unaltered and unexpired; then the identity's role policies (the local
  cloud's IAM) must allow the S3 action on the object or bucket, with
  `${cognito-identity.amazonaws.com:sub}` = the identity id. Other services refuse identity
  credentials locally (fail closed: only S3 is emulated for them).
- a presigned URL signed with a simulated account's key (`LKIA…`, what the API's functions hand
  out): expired, tampered with, or sent with other signed headers (another Content-Type) → 403.
- anything else goes on to moto as before (verifying every request is the hardening issue's).
A refusal is S3's XML error with its status; `None` lets the request through.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote

from stagewise import sigv4
from stagewise.cloud.identities import CredentialError, Identity, IdentityKeys, is_identity_key
from stagewise.iam_policy import Decision, RolePolicies, evaluate

_SCOPE = re.compile(r"Credential=([A-Z0-9]{16,128})/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
Answer = tuple[int, list[tuple[str, str]], bytes]
# Query parameters of S3 reads and writes that do not name another action (anything else does,
# and is refused for identities rather than guessed).
_PLAIN_QUERY = frozenset({"uploads", "uploadId", "partNumber", "versionId", "prefix", "list-type", "delimiter",
                          "max-keys", "continuation-token", "start-after", "encoding-type", "x-id", "fetch-owner",
                          "response-content-type", "response-content-disposition", "response-cache-control",
                          "response-expires", "response-content-language", "response-content-encoding"})


def s3_error(status: int, code: str, message: str) -> Answer:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>").encode()
    return status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], body


class Guard:
    """`account_secret(account)` gives a simulated account's secret; `iam_for(account)` an IAM client."""

    def __init__(self, keys: IdentityKeys, *, account_secret: Callable[[str], tuple[str, str]],
                 iam_for: Callable[[str], Any]) -> None:
        self.keys = keys
        self.account_secret = account_secret
        self.roles = RolePolicies(iam_for)

    def check(self, environ: dict[str, Any], body: bytes) -> Answer | None:
        query = environ.get("QUERY_STRING", "")
        presigned = sigv4.is_presigned(query)
        key_id, service, region = _signer(environ, query, presigned)
        if key_id is None:
            if "AWSAccessKeyId=" in query and is_identity_key(parse_qs(query).get("AWSAccessKeyId", [""])[0]):
                return s3_error(403, "AccessDenied", "Identity credentials must sign with Signature Version 4")
            return None
        identity = is_identity_key(key_id)
        if not identity and not presigned:
            return None
        incoming = _incoming(environ, body)
        found: dict[str, Identity] = {}
        try:
            verify = sigv4.verify_presigned if presigned else sigv4.verify
            verify(incoming, service=service, region=region,
                   secret_for=lambda key, token: self._secret(key, token, found))
        except sigv4.SignatureError as exc:
            code = exc.kind if exc.kind in ("AccessDenied", "AuthorizationQueryParametersError") else (
                "InvalidToken" if "security token" in exc.message else "SignatureDoesNotMatch")
            return s3_error(400 if code == "AuthorizationQueryParametersError" else 403, code, exc.message)
        if not identity:
            return None
        if service != "s3":
            return s3_error(403, "AccessDenied", f"Cognito identity credentials can call S3 only in the local cloud, "
                                                 f"not {service}")
        return self._authorize_s3(found["identity"], environ, query)

    def _secret(self, key_id: str, token: str | None, found: dict[str, Identity]) -> str:
        if is_identity_key(key_id):
            try:
                identity = self.keys.resolve(key_id, token)
            except CredentialError as exc:
                raise sigv4.SignatureError(exc.message) from exc
            found["identity"] = identity
            return identity.secret_access_key
        from stagewise.cloud.accounts import LOCAL_KEY

        local = LOCAL_KEY.fullmatch(key_id)
        if local is None:
            raise sigv4.SignatureError("The AWS Access Key Id you provided does not exist in our records.")
        secret, own_token = self.account_secret(local.group(1))
        if token is not None and token != own_token:
            raise sigv4.SignatureError("The provided token is malformed or otherwise invalid.")
        return secret

    def _authorize_s3(self, identity: Identity, environ: dict[str, Any], query: str) -> Answer | None:
        action, resource, context = s3_action(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"), query)
        documents, _ = self.roles.of(identity.account_id, identity.role_arn)
        decision = evaluate(documents, action=action, resource=resource, context=context,
                            variables={"cognito-identity.amazonaws.com:sub": identity.identity_id,
                                       "cognito-identity.amazonaws.com:aud": identity.pool_id})
        if decision is Decision.ALLOW:
            return None
        return s3_error(403, "AccessDenied", f"User: {identity.assumed_role_arn} is not authorized to perform: "
                                             f"{action} on resource: \"{resource}\"")


def s3_action(method: str, path: str, query: str) -> tuple[str, str, dict[str, str]]:
    """(IAM action, resource ARN, condition context) of a path-style S3 request."""
    bucket, _, key = path.lstrip("/").partition("/")
    params = parse_qs(query, keep_blank_values=True)
    other = sorted(set(params) - _PLAIN_QUERY - {k for k in params if k.lower().startswith("x-amz-")})
    if not bucket:
        return "s3:ListAllMyBuckets", "*", {}
    if other:  # ?acl, ?tagging, ?policy, ?delete …: actions of their own, never guessed
        return f"s3:{method.title()}{''.join(w.title() for w in other[0].split('-'))}", f"arn:aws:s3:::{bucket}", {}
    if not key:
        verbs = {"GET": "s3:ListBucket", "HEAD": "s3:ListBucket", "PUT": "s3:CreateBucket", "DELETE": "s3:DeleteBucket"}
        prefix = params.get("prefix", [""])[0]
        return verbs.get(method, f"s3:{method.title()}Bucket"), f"arn:aws:s3:::{bucket}", {"s3:prefix": prefix}
    verbs = {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject", "POST": "s3:PutObject",
             "DELETE": "s3:DeleteObject"}
    if method == "DELETE" and "uploadId" in params:
        verbs["DELETE"] = "s3:AbortMultipartUpload"
    return verbs.get(method, f"s3:{method.title()}Object"), f"arn:aws:s3:::{bucket}/{unquote(key)}", {}


def _signer(environ: dict[str, Any], query: str, presigned: bool) -> tuple[str | None, str, str]:
    if presigned:
        credential = parse_qs(query).get("X-Amz-Credential", [""])[0].split("/")
        if len(credential) == 5:
            return credential[0], credential[3], credential[2]
        return None, "", ""
    found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return (found.group(1), found.group(3), found.group(2)) if found else (None, "", "")


def _incoming(environ: dict[str, Any], body: bytes) -> sigv4.Incoming:
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH") and body:
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    raw_path = raw.split("?", 1)[0]
    return sigv4.Incoming(environ["REQUEST_METHOD"], raw_path, environ.get("QUERY_STRING", ""), headers, body)
