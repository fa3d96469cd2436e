"""Verifying an AWS Signature Version 4 request as an AWS service does (API Gateway's AWS_IAM, and
the local S3 for identity credentials and presigned URLs).

Data flow: the request as it arrived (method, raw path, raw query, headers, body) → parse the
`Authorization` header (credential, signed headers, signature) → check the credential scope
(date, region, service) and the clock (±5 minutes of `X-Amz-Date`) → look the caller's secret up
(`secret_for(access key id, session token)`, which also refuses unknown or expired credentials)
→ recompute the canonical request with botocore's own SigV4 code over exactly the signed headers
→ compare signatures in constant time. A refusal is a `SignatureError` carrying the message AWS
answers; the caller picks the status and body shape of its service.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import HeadersDict
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
TIMESTAMP = "%Y%m%dT%H%M%SZ"
MAX_SKEW = timedelta(minutes=5)
_STAMP = re.compile(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z")
_PART = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")

SecretFor = Callable[[str, str | None], str]  # (access key id, session token) -> secret, or SignatureError


class SignatureError(Exception):
    """A refused signature; `message` is AWS's wording."""

    def __init__(self, message: str, *, kind: str = "InvalidSignatureException") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class Signed:
    """Who signed a verified request."""

    access_key_id: str
    session_token: str | None
    region: str
    service: str


@dataclass(frozen=True)
class Incoming:
    method: str
    raw_path: str  # as sent, still percent-encoded
    raw_query: str
    headers: Mapping[str, str]  # names in any case
    body: bytes
    scheme: str = "http"

    def header(self, name: str) -> str | None:
        return self._lowered.get(name.lower())

    @cached_property
    def _lowered(self) -> dict[str, str]:
        """The headers by lower-cased name, made once (a check looks up several); a name sent in two
        spellings has its values joined by commas, as SigV4 signs a repeated header."""
        lowered: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
        return lowered


def verify(request: Incoming, *, service: str, region: str, secret_for: SecretFor,
           now: datetime | None = None) -> Signed:
    """The signer of `request`, or SignatureError with AWS's message."""
    authorization = request.header("Authorization")
    if not authorization:
        raise SignatureError("Missing Authentication Token", kind="MissingAuthenticationTokenException")
    key_id, scope, signed_headers, signature = _parse(authorization)
    stamp = request.header("X-Amz-Date") or ""
    when = _timestamp(stamp)
    _check_scope(scope, stamp, service=service, region=region)
    _check_clock(when, now or datetime.now(UTC))
    token = request.header("X-Amz-Security-Token")
    secret = secret_for(key_id, token)
    expected = _signature(request, secret=secret, service=service, region=region, stamp=stamp,
                          signed_headers=signed_headers)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureError("The request signature we calculated does not match the signature you provided. "
                             "Check your AWS Secret Access Key and signing method. Consult the service "
                             "documentation for details.")
    return Signed(key_id, token, region, service)


def _parse(authorization: str) -> tuple[str, list[str], list[str], str]:
    algorithm, _, rest = authorization.partition(" ")
    parts = dict(_PART.findall(rest))
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not parts.get(name)]
    if algorithm != ALGORITHM or missing:
        wanted = " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
        raise SignatureError(f"{wanted or 'Authorization header requires the AWS4-HMAC-SHA256 algorithm.'} "
                             f"Authorization={authorization[:100]}", kind="IncompleteSignatureException")
    credential = parts["Credential"].split("/")
    if len(credential) != 5 or credential[4] != "aws4_request":
        raise SignatureError(f"Credential should be scoped with a valid terminator: 'aws4_request', "
                             f"not '{credential[-1] if credential else ''}'.", kind="IncompleteSignatureException")
    return credential[0], credential[1:4], parts["SignedHeaders"].split(";"), parts["Signature"]


def _timestamp(stamp: str) -> datetime:
    # ISO 8601 basic, exactly as SigV4 writes it: a regex and datetime() are ~4x faster than strptime
    found = _STAMP.fullmatch(stamp)
    try:
        if found is None:
            raise ValueError(stamp)
        return datetime(*map(int, found.groups()), tzinfo=UTC)
    except ValueError:
        raise SignatureError("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' "
                             "header.", kind="IncompleteSignatureException") from None


def _check_scope(scope: list[str], stamp: str, *, service: str, region: str) -> None:
    date, scoped_region, scoped_service = scope
    if date != stamp[:8]:
        raise SignatureError(f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                             f"from HTTP: '{date}' != '{stamp[:8]}', from '{stamp}'.")
    if scoped_region != region:
        raise SignatureError(f"Credential should be scoped to a valid region, not '{scoped_region}'. ")
    if scoped_service != service:
        raise SignatureError(f"Credential should be scoped to correct service: '{service}'. ")


def _check_clock(when: datetime, now: datetime) -> None:
    if when < now - MAX_SKEW:
        raise SignatureError(f"Signature expired: {when.strftime(TIMESTAMP)} is now earlier than "
                             f"{(now - MAX_SKEW).strftime(TIMESTAMP)} ({now.strftime(TIMESTAMP)} - 5 min.)")
    if when > now + MAX_SKEW:
        raise SignatureError(f"Signature not yet current: {when.strftime(TIMESTAMP)} is still later than "
                             f"{(now + MAX_SKEW).strftime(TIMESTAMP)} ({now.strftime(TIMESTAMP)} + 5 min.)")


class _SignedHeaders(dict[str, str]):
    """The signed headers by lower-cased name: what botocore's `canonical_headers` and `signed_headers`
    read of `headers_to_sign` (names, and `get_all`), without building an email `Message` (an
    `HTTPHeaders`), which was a third of a check."""

    def get_all(self, name: str) -> list[str]:
        return [self[name]]


class _AsSigned:
    """botocore's SigV4 over exactly the headers the client signed (carried by the `_Rebuilt`
    request), at the client's timestamp."""

    def headers_to_sign(self, request: _Rebuilt) -> _SignedHeaders:
        return request.signed


class _Recomputed(_AsSigned, SigV4Auth):
    pass


class _RecomputedS3(_AsSigned, S3SigV4Auth):
    """The same for S3: the path is signed as sent (not normalized), the payload by its header."""


@lru_cache(maxsize=32)
def _recomputer(service: str, region: str) -> SigV4Auth:
    """One per service and region: it holds no request and no secret (`_signing_key` derives the key)."""
    credentials = Credentials("verifier", "")
    return _RecomputedS3(credentials, "s3", region) if service == "s3" else _Recomputed(credentials, service, region)


@dataclass
class _Rebuilt:
    """The request as botocore's SigV4 code reads it (method, url, params, headers, body, context).
    An `AWSRequest` would do, but its `body` runs `prepare()`, which copies the headers into an email
    `Message`: a third of what was left of a check."""

    method: str
    url: str
    headers: HeadersDict
    body: bytes
    context: dict[str, Any]
    signed: _SignedHeaders
    params: dict[str, str] = field(default_factory=dict)  # the query stays in the url


def _signature(request: Incoming, *, secret: str, service: str, region: str, stamp: str,
               signed_headers: list[str]) -> str:
    signed = _SignedHeaders((name, request.header(name) or "") for name in signed_headers)
    # botocore reads the request's headers for one more thing: a payload hash the client sent
    content_sha256 = request.header("X-Amz-Content-SHA256")
    headers = HeadersDict({} if content_sha256 is None else {"X-Amz-Content-SHA256": content_sha256})
    host = request.header("Host") or "localhost"
    url = f"{request.scheme}://{host}{request.raw_path}" + (f"?{request.raw_query}" if request.raw_query else "")
    rebuilt = _Rebuilt(request.method, url, headers, request.body, {"timestamp": stamp}, signed)
    auth = _recomputer(service, region)
    to_sign = auth.string_to_sign(rebuilt, auth.canonical_request(rebuilt))  # type: ignore[arg-type]
    return _hmac_chain(secret, stamp[:8], region, service, to_sign)


# -- presigned URLs (query-string authentication) --------------------------------------------------

PRESIGNED = "X-Amz-Signature"


def is_presigned(raw_query: str) -> bool:
    return f"{PRESIGNED}=" in raw_query


def verify_presigned(request: Incoming, *, service: str, region: str, secret_for: SecretFor,
                     now: datetime | None = None) -> Signed:
    """A presigned URL's signer, or SignatureError: expired, tampered with, or sent with other signed
    headers (e.g. another Content-Type than the one it was signed for)."""
    params = parse_qsl(request.raw_query, keep_blank_values=True)
    found = dict(params)
    if found.get("X-Amz-Algorithm") != ALGORITHM or not all(
            found.get(k) for k in ("X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", PRESIGNED)):
        raise SignatureError("Query-string authentication version 4 requires the X-Amz-Algorithm, "
                             "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires "
                             "parameters.", kind="AuthorizationQueryParametersError")
    credential = found["X-Amz-Credential"].split("/")
    if len(credential) != 5 or credential[4] != "aws4_request":
        raise SignatureError("Error parsing the X-Amz-Credential parameter", kind="AuthorizationQueryParametersError")
    stamp = found["X-Amz-Date"]
    when = _timestamp(stamp)
    _check_scope(credential[1:4], stamp, service=service, region=region)
    current = now or datetime.now(UTC)
    expires = int(found.get("X-Amz-Expires") or 0)
    if when > current + MAX_SKEW:
        raise SignatureError("Request is not yet valid", kind="AccessDenied")
    if current > when + timedelta(seconds=expires):
        raise SignatureError("Request has expired", kind="AccessDenied")
    token = found.get("X-Amz-Security-Token")
    secret = secret_for(credential[0], token)
    signed = found["X-Amz-SignedHeaders"].split(";")
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
                     for k, v in sorted(params) if k != PRESIGNED)
    headers = "".join(f"{name}:{' '.join((request.header(name) or '').split())}\n" for name in signed)
    canonical = "\n".join([request.method.upper(), request.raw_path if service == "s3" else quote(request.raw_path, safe="/~"),
                           query, headers, ";".join(signed), "UNSIGNED-PAYLOAD"])
    scope = "/".join(credential[1:])
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    expected = _hmac_chain(secret, credential[1], region, service, to_sign)
    if not hmac.compare_digest(expected.encode(), found[PRESIGNED].encode()):
        raise SignatureError("The request signature we calculated does not match the signature you provided. "
                             "Check your key and signing method.", kind="SignatureDoesNotMatch")
    return Signed(credential[0], token, region, service)


def _hmac_chain(secret: str, date: str, region: str, service: str, to_sign: str) -> str:
    return hmac.new(_signing_key(secret, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=64)
def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """SigV4's derived key: four HMACs that give the same key for a caller all day, so made once."""
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key
