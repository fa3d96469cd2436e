"""Build the API Gateway REST (v1) Lambda proxy event for one HTTP request.

Data flow: the HTTP server's `HttpRequest` + the matched route + what the route's authorizer
plug-in returned (`requestContext.authorizer`, extra `requestContext.identity` keys) → `proxy_event()` → a dict shaped exactly like the event API Gateway sends with an
`AWS_PROXY` integration (the shape of AWS's and Powertools' sample
`apiGatewayProxyEvent.json`). API Gateway's quirks are kept: empty query strings and
path parameters are `null`, the single-value maps hold the *last* value of a repeated
key, every Cognito claim is a string (`exp`/`iat` as "Wed Apr 08 10:47:16 UTC 2020"),
and a body that is not UTF-8 text is base64 with `isBase64Encoded: true`.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stagewise.runtime.model import RouteSpec
from stagewise.tracing.segments import new_id, new_trace_id

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded",
               "application/javascript", "application/graphql", "+json", "+xml")
_DATE_CLAIMS = ("exp", "iat")


@dataclass
class HttpRequest:
    method: str
    path: str  # decoded path, no query string
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)  # as received, repeated names kept
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    # the request target exactly as received, still percent-encoded ("" when not built from the wire):
    # what a SigV4 signature covers
    raw_path: str = ""
    raw_query: str = ""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == lowered:
                found = value
        return found


@dataclass(frozen=True)
class ApiContext:
    """The per-API values of requestContext."""

    account_id: str
    api_id: str
    stage: str
    region: str
    stage_variables: dict[str, str] = field(default_factory=dict)

    @property
    def domain_name(self) -> str:
        return f"{self.api_id}.execute-api.{self.region}.amazonaws.com"


def new_request_id() -> str:
    return str(uuid.uuid4())


def new_trace_root() -> str:
    """An X-Ray trace id as API Gateway makes them: Root=1-<epoch hex>-<96 random bits>."""
    return f"Root={new_trace_id()}"


def lambda_trace_header(trace_root: str, *, sampled: bool = False) -> str:
    """The trace header a caller hands Lambda: the root, the caller's segment as `Parent` and the
    caller's sampling decision when the header has them (API Gateway's, when its stage traces), else
    a new parent and `sampled` (the function's own tracing)."""
    fields = trace_root.split(";")
    parent = next((f for f in fields[1:] if f.startswith("Parent=")), None) or f"Parent={new_id()}"
    decided = next((f for f in fields[1:] if f in ("Sampled=0", "Sampled=1")), f"Sampled={int(sampled)}")
    return f"{fields[0]};{parent};{decided}"


def proxy_event(
    request: HttpRequest,
    *,
    route: RouteSpec,
    path_parameters: dict[str, str],
    api: ApiContext,
    claims: dict[str, Any] | None = None,
    request_id: str | None = None,
    authorizer: dict[str, Any] | None = None,
    identity: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`authorizer`: what the route's authorizer plug-in returned for `requestContext.authorizer`
    (as is; absent when None); `identity`: keys it sets in `requestContext.identity`. `claims` is the
    Cognito shorthand: `authorizer={"claims": claims_as_strings(claims)}`."""
    request_id = request_id or new_request_id()
    if claims is not None and authorizer is None:
        authorizer = {"claims": claims_as_strings(claims)}
    headers, multi_headers = _single_and_multi(_with_gateway_headers(request))
    query, multi_query = _single_and_multi(request.query)
    body, is_base64 = encode_body(request.body, request.header("content-type"))
    return {
        "resource": route.path,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": api.stage_variables or None,
        "requestContext": _request_context(request, route=route, api=api, authorizer=authorizer, identity=identity,
                                           request_id=request_id),
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _request_context(
    request: HttpRequest, *, route: RouteSpec, api: ApiContext, authorizer: dict[str, Any] | None,
    identity: dict[str, Any] | None, request_id: str,
) -> dict[str, Any]:
    now = time.time()
    context: dict[str, Any] = {
        "accountId": api.account_id,
        "apiId": api.api_id,
        "resourceId": route.resource_id,
        "resourcePath": route.path,
        "httpMethod": request.method,
        "path": f"/{api.stage}{request.path}",
        "stage": api.stage,
        "requestId": request_id,
        "extendedRequestId": request_id.replace("-", "")[:16] + "=",
        "requestTime": datetime.fromtimestamp(now, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now * 1000),
        "identity": _identity(request, identity),
        "domainName": api.domain_name,
        "domainPrefix": api.api_id,
        "protocol": "HTTP/1.1",
    }
    if authorizer is not None:
        context["authorizer"] = authorizer
    return context


def _identity(request: HttpRequest, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    keys = ("cognitoIdentityPoolId", "accountId", "cognitoIdentityId", "caller", "accessKey",
            "cognitoAuthenticationType", "cognitoAuthenticationProvider", "userArn", "user",
            "principalOrgId", "apiKey", "apiKeyId", "clientCert")
    identity: dict[str, Any] = dict.fromkeys(keys)
    identity["sourceIp"] = request.source_ip
    identity["userAgent"] = request.header("user-agent")
    if extra:
        identity.update(extra)
    return identity


def claims_as_strings(claims: dict[str, Any]) -> dict[str, str]:
    """API Gateway hands every claim to the function as a string."""
    out: dict[str, str] = {}
    for key, value in claims.items():
        if key in _DATE_CLAIMS and isinstance(value, int | float):
            out[key] = datetime.fromtimestamp(value, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
        elif isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, list):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def context_as_strings(context: dict[str, Any]) -> dict[str, str | None]:
    """A Lambda authorizer's `context` as the integration sees it: every value a string
    (numbers as written, booleans `true`/`false`); a null stays null."""
    out: dict[str, str | None] = {}
    for key, value in context.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = None if value is None else str(value)
    return out


def _with_gateway_headers(request: HttpRequest) -> list[tuple[str, str]]:
    """The headers API Gateway adds before the integration sees the request."""
    added = [("X-Forwarded-For", request.source_ip), ("X-Forwarded-Proto", "http")]
    if request.header("x-amzn-trace-id") is None:
        added.append(("X-Amzn-Trace-Id", new_trace_root()))
    present = {name.lower() for name, _ in request.headers}
    return [*request.headers, *((k, v) for k, v in added if k.lower() not in present)]


def _single_and_multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def encode_body(body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """(body, isBase64Encoded): text stays text, anything else is base64 (binary media types on)."""
    if not body:
        return None, False
    if content_type is None or any(t in content_type.lower() for t in _TEXT_TYPES):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True
