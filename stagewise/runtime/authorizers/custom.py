"""`CUSTOM`: Lambda authorizers (TOKEN and REQUEST) as API Gateway runs them.

Data flow for one request:
  the identity sources (`method.request.header.X`, `method.request.querystring.X`,
  `stageVariables.X`, `context.X`) are read; one missing or empty → 401 `{"message":"Unauthorized"}`
  without calling the function; a TOKEN that does not match `IdentityValidationExpression` → the same
  → the cache (per authorizer and identity-source values, `AuthorizerResultTtlInSeconds`, 0 = off)
  or the authorizer function, in its own warm worker like any function, with the TOKEN event
  `{type, authorizationToken, methodArn}` or the REQUEST event (the proxy event's request parts +
  `type` and `methodArn`)
  → its output is checked (`principalId`, `policyDocument`, a flat `context`) and the policy is
  evaluated (`stagewise.iam_policy`: explicit Deny wins, `*`/`?` wildcards, Not*, an unknown
  Condition never allows) for `execute-api:Invoke` on this request's method ARN (a cached policy
  is re-evaluated for every ARN):
  Allow → through, with `requestContext.authorizer` = the context (values as strings) +
  `principalId` + `integrationLatency`; explicit Deny → 403 `{"Message": "... with an explicit
  deny"}`; no Allow → 403 `{"Message":"User is not authorized to access this resource"}`.
The function raising `Exception("Unauthorized")` → 401; any other error, a timeout, a crash or a
malformed output → 500 `{"message": null}`. Nothing is ever let through on an error.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from stagewise.iam_policy import Decision, evaluate
from stagewise.runtime.auth import AuthFailure
from stagewise.runtime.authorizers.base import (
    EXPLICIT_DENY,
    NOT_AUTHORIZED,
    UNAUTHORIZED,
    AuthCall,
    AuthorizerDeps,
    AuthResult,
    configuration_error,
    register,
)
from stagewise.runtime.events import HttpRequest, context_as_strings, new_request_id, proxy_event
from stagewise.runtime.model import AuthorizerSpec, RouteSpec
from stagewise.runtime.workers import InvokeStatus

INVOKE_ACTION = "execute-api:Invoke"
AUTHORIZER_WAIT_S = 29.0  # the function's own Timeout, at most API Gateway's integration limit
MAX_TTL_S = 3600
MAX_CACHED = 10_000
_SCALARS = (str, int, float, bool, type(None))


class MalformedOutput(ValueError):
    pass


@dataclass(frozen=True)
class AuthorizerOutput:
    principal_id: str
    policy: dict[str, Any]  # the checked policyDocument
    context: dict[str, Any]


@dataclass
class _Cached:
    output: AuthorizerOutput
    expires: float  # monotonic


@register("CUSTOM")
class LambdaAuthorizer:
    def __init__(self, deps: AuthorizerDeps) -> None:
        self._workers = deps.workers
        self._log = deps.log
        self._cache: dict[tuple[str, tuple[str, ...]], _Cached] = {}
        self._lock = threading.Lock()
        self.calls = 0  # authorizer function invocations (tests, console)

    def authorize(self, request: HttpRequest, route: RouteSpec, call: AuthCall) -> AuthResult:
        spec = call.authorizer
        if spec is None or spec.type not in ("TOKEN", "REQUEST"):
            kind = spec.type if spec is not None else "not deployed"
            raise configuration_error(f"CUSTOM method needs a TOKEN or REQUEST authorizer; "
                                      f"{route.authorizer_id} is {kind}")
        if spec.function is None:
            raise configuration_error(f"authorizer {spec.name}: AuthorizerUri {spec.function_arn or '(none)'} "
                                      "names no deployed function")
        values = identity_values(spec, request, call)
        if spec.type == "TOKEN" and spec.validation_expression:
            try:
                valid = re.fullmatch(spec.validation_expression, values[0]) is not None
            except re.error as exc:
                raise configuration_error(f"authorizer {spec.name}: IdentityValidationExpression: {exc}") from exc
            if not valid:
                raise AuthFailure(reason=f"authorizer {spec.name}: the token does not match IdentityValidationExpression")
        key = (spec.authorizer_id, values)
        latency = 0
        output = self._cached(key) if spec.ttl_s > 0 and values else None
        if output is None:
            started = time.perf_counter()
            output = self._call(spec, request, route, call, values)
            latency = round((time.perf_counter() - started) * 1000)
            if spec.ttl_s > 0 and values:
                self._store(key, output, min(spec.ttl_s, MAX_TTL_S))
        decision = evaluate([output.policy], action=INVOKE_ACTION, resource=call.method_arn)
        if decision is Decision.DENY:
            raise AuthFailure(EXPLICIT_DENY, status=403, key="Message",
                              reason=f"authorizer {spec.name}: explicit Deny for {call.method_arn}")
        if decision is not Decision.ALLOW:
            raise AuthFailure(NOT_AUTHORIZED, status=403, key="Message",
                              reason=f"authorizer {spec.name}: no Allow statement matches {call.method_arn}")
        return AuthResult(authorizer={**context_as_strings(output.context), "principalId": output.principal_id,
                                      "integrationLatency": latency})

    def _call(self, spec: AuthorizerSpec, request: HttpRequest, route: RouteSpec, call: AuthCall,
              values: tuple[str, ...]) -> AuthorizerOutput:
        assert spec.function is not None
        if spec.type == "TOKEN":
            event: dict[str, Any] = {"type": "TOKEN", "authorizationToken": values[0], "methodArn": call.method_arn}
        else:
            event = request_event(request, route, call)
        self.calls += 1
        result = self._workers.pool(spec.function).invoke(event, request_id=new_request_id(), wait_s=AUTHORIZER_WAIT_S,
                                                         trace_id=request.header("X-Amzn-Trace-Id"))  # same trace
        if result.status is InvokeStatus.TIMEOUT:
            raise configuration_error(f"authorizer {spec.name}: the function timed out")
        if result.status is not InvokeStatus.OK:
            error = result.error or {}
            if result.status is InvokeStatus.FUNCTION_ERROR and error.get("errorMessage") == UNAUTHORIZED:
                raise AuthFailure(reason=f"authorizer {spec.name} raised Unauthorized")
            raise configuration_error(f"authorizer {spec.name}: {result.status.value}: "
                                      f"{error.get('errorType')}: {error.get('errorMessage', '')}")
        try:
            return parse_output(result.payload)
        except MalformedOutput as exc:
            raise configuration_error(f"authorizer {spec.name} returned a malformed response: {exc}") from exc

    def _cached(self, key: tuple[str, tuple[str, ...]]) -> AuthorizerOutput | None:
        with self._lock:
            entry = self._cache.get(key)
            if entry is None:
                return None
            if entry.expires <= time.monotonic():
                del self._cache[key]
                return None
            return entry.output

    def _store(self, key: tuple[str, tuple[str, ...]], output: AuthorizerOutput, ttl_s: int) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                for stale in [k for k, v in self._cache.items() if v.expires <= now] or list(self._cache)[:1]:
                    del self._cache[stale]
            self._cache[key] = _Cached(output, now + ttl_s)


def identity_values(spec: AuthorizerSpec, request: HttpRequest, call: AuthCall) -> tuple[str, ...]:
    """The value of every identity source, in order; a missing or empty one is a 401."""
    values = []
    for source in spec.identity_sources:
        value = _source_value(source, request, call)
        if not value:
            raise AuthFailure(reason=f"authorizer {spec.name}: identity source {source} is missing or empty")
        values.append(value)
    if spec.type == "TOKEN" and not values:
        raise configuration_error(f"TOKEN authorizer {spec.name} has no IdentitySource")
    return tuple(values)


def _source_value(source: str, request: HttpRequest, call: AuthCall) -> str | None:
    lowered = source.lower()
    for prefix in ("method.request.header.", "method.request.multivalueheader."):
        if lowered.startswith(prefix):
            name = source[len(prefix):].lower()
            found = [v for k, v in request.headers if k.lower() == name]
            return (found[-1] if "multivalue" not in prefix else ",".join(found)) if found else None
    for prefix in ("method.request.querystring.", "method.request.multivaluequerystring."):
        if lowered.startswith(prefix):
            name = source[len(prefix):]
            found = [v for k, v in request.query if k == name]
            return (found[-1] if "multivalue" not in prefix else ",".join(found)) if found else None
    if source.startswith("stageVariables."):
        return call.api.stage_variables.get(source[len("stageVariables."):])
    if source.startswith("context."):
        return _context_variables(request, call).get(source[len("context."):])
    raise configuration_error(f"identity source {source!r} is not one API Gateway accepts")


def _context_variables(request: HttpRequest, call: AuthCall) -> dict[str, str | None]:
    api = call.api
    return {"httpMethod": call.method, "stage": api.stage, "apiId": api.api_id, "accountId": api.account_id,
            "path": f"/{api.stage}{call.path}", "requestId": call.request_id, "domainName": api.domain_name,
            "identity.sourceIp": request.source_ip, "identity.userAgent": request.header("user-agent")}


def request_event(request: HttpRequest, route: RouteSpec, call: AuthCall) -> dict[str, Any]:
    """A REQUEST authorizer's input: the proxy event's request parts, its type and the method ARN."""
    event = proxy_event(request, route=route, path_parameters=call.path_parameters, api=call.api,
                        request_id=call.request_id)
    event.pop("body", None)
    event.pop("isBase64Encoded", None)
    return {"type": "REQUEST", "methodArn": call.method_arn, **event}


def parse_output(payload: Any) -> AuthorizerOutput:
    """Check a Lambda authorizer's output as API Gateway does (anything off is a configuration error)."""
    if not isinstance(payload, dict):
        raise MalformedOutput(f"the output must be an object, got {type(payload).__name__}")
    principal = payload.get("principalId")
    if not isinstance(principal, str) or not principal:
        raise MalformedOutput("principalId must be a non-empty string")
    policy = _checked_policy(payload.get("policyDocument"))
    context = payload.get("context") or {}
    if not isinstance(context, dict):
        raise MalformedOutput("context must be an object")
    nested = sorted(k for k, v in context.items() if not isinstance(v, _SCALARS))
    if nested:
        raise MalformedOutput(f"context values must be strings, numbers or booleans, not objects or arrays: {nested}")
    return AuthorizerOutput(principal, policy, dict(context))


def _checked_policy(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise MalformedOutput(f"policyDocument must be an object, got {type(document).__name__}")
    raw = document.get("Statement")
    statements = [raw] if isinstance(raw, dict) else raw
    if not isinstance(statements, list) or not statements:
        raise MalformedOutput("policyDocument.Statement must be a non-empty list of statements")
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            raise MalformedOutput(f"Statement[{index}] is not an object")
        if statement.get("Effect") not in ("Allow", "Deny"):
            raise MalformedOutput(f"Statement[{index}].Effect must be Allow or Deny, got {statement.get('Effect')!r}")
        for key, negated in (("Action", "NotAction"), ("Resource", "NotResource")):
            if (key in statement) == (negated in statement):
                raise MalformedOutput(f"Statement[{index}] needs exactly one of {key} / {negated}")
            value = statement.get(key, statement.get(negated))
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
                raise MalformedOutput(f"Statement[{index}].{key if key in statement else negated} must be a "
                                      "string or a list of strings")
    return {**document, "Statement": statements}
