"""What the local cloud checks before moto sees a request: every signature, with credentials it
issued itself, and what a Cognito identity's credentials may do.

Data flow: the cloud's app hands every request from outside (not its own health/SMS paths, not the
in-process calls of its own CloudFormation) to `Guard.check`:
- unsigned: refused, except what AWS itself serves unsigned (Cognito sign-up/sign-in, `GetId`,
  `GetCredentialsForIdentity`, `AssumeRoleWithWebIdentity`, a user pool's JWKS);
- signed (Authorization header, or a presigned URL's query): the key must be one the cloud issued
  — a simulated account's (`LKIA…`, secret derived from the account id), a Cognito identity's
  (`LI…`, cloud/identities.py: token unaltered and unexpired), or one moto's IAM/STS issued
  (IAM access keys, AssumeRole sessions with their expiry) — and the SigV4 signature must verify
  (scope, ±5 min, exactly the signed headers; a presigned URL's expiry);
- a Cognito identity may then only do what its role's policies allow in S3 (its own
  `private/<identity id>/` prefix with the app's role), with `${cognito-identity.amazonaws.com:sub}`
  = the identity id; other services refuse identity credentials locally (only S3 is emulated).
A refusal is the service's own error shape (S3 XML, JSON `__type`, query XML) with AWS's code and
status; `None` lets the request through.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from datetime import UTC
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

from stagewise import sigv4
from stagewise.cloud.identities import Identity, IdentityKeys
from stagewise.cloud.issuers import Issued, Issuer, KeyLookup
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


INTERNAL = "stagewise.internal"  # environ flag of the cloud's own in-process calls (cloud/inprocess.py)
# What AWS answers without a signature (sign-up / sign-in flows).
UNSIGNED_TARGETS = frozenset({
    "AWSCognitoIdentityService.GetId", "AWSCognitoIdentityService.GetCredentialsForIdentity",
    "AWSCognitoIdentityService.GetOpenIdToken",
    *(f"AWSCognitoIdentityProviderService.{a}" for a in (
        "SignUp", "ConfirmSignUp", "InitiateAuth", "RespondToAuthChallenge", "ForgotPassword",
        "ConfirmForgotPassword", "ResendConfirmationCode", "GetUser", "ChangePassword", "GlobalSignOut",
        "RevokeToken", "UpdateUserAttributes", "DeleteUser", "VerifyUserAttribute", "DeleteUserAttributes",
        "GetUserAttributeVerificationCode", "AssociateSoftwareToken", "VerifySoftwareToken",
        "SetUserMFAPreference", "ConfirmDevice", "GetDevice", "ListDevices", "ForgetDevice", "UpdateDeviceStatus")),
})
UNSIGNED_ACTIONS = frozenset({"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"})
POOL_WELL_KNOWN = re.compile(r"^/[\w-]+_[0-9A-Za-z]+/\.well-known/(jwks\.json|openid-configuration)$")


class Refusal(Exception):
    """A request refused with AWS's code; the status and shape follow the service (`answer`)."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Guard:
    """`moto_key(key id)`: what moto's IAM/STS know of a key they issued; `iam_for(account)`: an IAM client."""

    def __init__(self, keys: IdentityKeys, *, iam_for: Callable[[str], Any],
                 moto_key: KeyLookup = lambda key_id: None) -> None:
        self.issuer = Issuer(keys, moto_key=moto_key)
        self.roles = RolePolicies(iam_for)

    def check(self, environ: dict[str, Any], body: bytes) -> Answer | None:
        if environ.get(INTERNAL):
            return None
        query = environ.get("QUERY_STRING", "")
        presigned = sigv4.is_presigned(query)
        key_id, service, region = _signer(environ, query, presigned)
        try:
            if key_id is None:
                self._unsigned(environ, body, query)
                return None
            issued = self._verify(environ, body, presigned=presigned, service=service, region=region)
        except Refusal as exc:
            return answer(environ, service, exc)
        if issued.identity is None:
            return None
        if service != "s3":
            return answer(environ, service, Refusal("AccessDenied", "Cognito identity credentials can call S3 only "
                                                    f"in the local cloud, not {service}"))
        return self._authorize_s3(issued.identity, environ, query)

    def _unsigned(self, environ: dict[str, Any], body: bytes, query: str) -> None:
        if "AWSAccessKeyId=" in query or environ.get("HTTP_AUTHORIZATION", "").startswith("AWS "):
            raise Refusal("InvalidRequest", "The authorization mechanism you have provided is not supported. "
                          "Please use AWS4-HMAC-SHA256.", 400)
        if environ.get("HTTP_AUTHORIZATION"):
            raise Refusal("IncompleteSignatureException", "Authorization header requires 'Credential' parameter. "
                          "Authorization header requires 'Signature' parameter.", 400)
        if environ.get("HTTP_X_AMZ_TARGET") in UNSIGNED_TARGETS or POOL_WELL_KNOWN.match(environ.get("PATH_INFO", "")):
            return
        actions = parse_qs(query).get("Action") or parse_qs(body.decode("utf-8", "replace")).get("Action") or [""]
        if actions[0] in UNSIGNED_ACTIONS:
            return
        raise Refusal("MissingAuthenticationTokenException", "Request is missing Authentication Token", 403)

    def _verify(self, environ: dict[str, Any], body: bytes, *, presigned: bool, service: str, region: str) -> Issued:
        found: dict[str, Issued] = {}

        def secret_for(key_id: str, token: str | None) -> str:
            found["issued"] = self.issuer.issued(key_id, token)
            return found["issued"].secret

        try:
            verify = sigv4.verify_presigned if presigned else sigv4.verify
            verify(_incoming(environ, body), service=service, region=region, secret_for=secret_for)
        except sigv4.SignatureError as exc:
            raise _refusal(exc) from exc
        return found["issued"]

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


def _refusal(exc: sigv4.SignatureError) -> Refusal:
    """AWS's code for a refused signature (the S3 spelling; `answer` renames it for other services)."""
    codes = {"UnknownKey": ("InvalidAccessKeyId", 403), "InvalidToken": ("InvalidToken", 400),
             "ExpiredToken": ("ExpiredToken", 400), "AccessDenied": ("AccessDenied", 403),
             "AuthorizationQueryParametersError": ("AuthorizationQueryParametersError", 400),
             "IncompleteSignatureException": ("IncompleteSignatureException", 400),
             "MissingAuthenticationTokenException": ("MissingAuthenticationTokenException", 403)}
    code, status = codes.get(exc.kind, ("SignatureDoesNotMatch", 403))
    return Refusal(code, exc.message, status)


# S3's codes → the codes the JSON and query services answer for the same refusal
_OTHER_SERVICES = {"InvalidAccessKeyId": ("UnrecognizedClientException", 400),
                   "InvalidToken": ("UnrecognizedClientException", 400),
                   "ExpiredToken": ("ExpiredTokenException", 400),
                   "SignatureDoesNotMatch": ("InvalidSignatureException", 403)}


# S3's own words for them
_S3_MESSAGES = {"InvalidAccessKeyId": "The AWS Access Key Id you provided does not exist in our records.",
                "InvalidToken": "The provided token is malformed or otherwise invalid.",
                "ExpiredToken": "The provided token has expired.",
                "MissingAuthenticationTokenException": "Access Denied"}


def answer(environ: dict[str, Any], service: str, refusal: Refusal) -> Answer:
    """The refusal in the shape of the service the request was for."""
    if service == "s3" or (not service and not environ.get("HTTP_X_AMZ_TARGET")
                           and "Action=" not in environ.get("QUERY_STRING", "")
                           and not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form")):
        code = "AccessDenied" if refusal.code == "MissingAuthenticationTokenException" else refusal.code
        return s3_error(refusal.status, code, _S3_MESSAGES.get(refusal.code, refusal.message))
    code, status = _OTHER_SERVICES.get(refusal.code, (refusal.code, refusal.status))
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in environ.get("CONTENT_TYPE", ""):
        body = json.dumps({"__type": code, "message": refusal.message}).encode()
        return status, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code),
                        ("Content-Length", str(len(body)))], body
    xml = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{refusal.message}</Message>"
           f"</Error><RequestId>{secrets.token_hex(8)}</RequestId></ErrorResponse>").encode()
    return status, [("Content-Type", "text/xml"), ("Content-Length", str(len(xml)))], xml


def moto_key_lookup(moto_lock: Any) -> KeyLookup:
    """What moto's IAM (access keys) and STS (assumed-role sessions, their expiry) know of a key."""

    def lookup(key_id: str) -> Issued | None:
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends

        with moto_lock:
            for account_id in list(dict.keys(iam_backends)):
                iam = dict.get(dict.get(iam_backends, account_id) or {}, "aws")
                key = iam.access_keys.get(key_id) if iam is not None else None
                if key is None or getattr(key, "status", "Active") != "Active":
                    continue
                sts = dict.get(dict.get(sts_backends, account_id) or {}, "aws")
                role = next((r for r in (sts.assumed_roles if sts else []) if r.access_key_id == key_id), None)
                if role is None:
                    return Issued(account_id, key.secret_access_key)
                expires = role.expiration.replace(tzinfo=UTC).timestamp()  # moto keeps naive UTC
                return Issued(account_id, role.secret_access_key, role.session_token, expires)
        return None

    return lookup


def _signer(environ: dict[str, Any], query: str, presigned: bool) -> tuple[str | None, str, str]:
    if presigned:
        credential = parse_qs(query).get("X-Amz-Credential", [""])[0].split("/")
        if len(credential) == 5:
            return credential[0], credential[3], credential[2]
        return None, "", ""
    found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return (found.group(1), found.group(3), found.group(2)) if found else (None, "", "")


def _incoming(environ: dict[str, Any], body: bytes) -> sigv4.Incoming:
    """The request's headers under the names the client sent (WSGI folds `-` and `_`: the gateway
    kept the original spelling of the names where that matters, e.g. `x-amz-meta-a_b`)."""
    original = environ.get(PRESERVED_HEADER_NAMES_ENVIRON_KEY) or {}
    headers = {original.get(key) or key[5:].replace("_", "-").title(): value
               for key, value in environ.items() if key.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if environ.get("CONTENT_LENGTH") and body:
        headers["Content-Length"] = environ["CONTENT_LENGTH"]
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    raw_path = raw.split("?", 1)[0]
    return sigv4.Incoming(environ["REQUEST_METHOD"], raw_path, environ.get("QUERY_STRING", ""), headers, body)
