"""The local API Gateway: one REST API's request → route → authorizer → Lambda → response.

Data flow: `await Gateway.handle(HttpRequest)`, on the HTTP server's event loop:
  payload limit (10 MB → 413) → `RouteTable.match` (NONE → 404, PARTIAL → 405, a
  preflight OPTIONS → the template's MOCK answer; a resource without one has no CORS at all, as
  on AWS: never a permissive default that would echo any page's origin) →
  the route's authorizer plug-in (`authorizers/`, one per AuthorizationType: NONE, Cognito,
  Lambda TOKEN/REQUEST; a type without one → 500 `{"message": null}`, never served; a refusal →
  API Gateway's status and body, the reason on the console) → `proxy_event` →
  `FunctionPool.invoke_async` (the loop reads the worker's pipe; timeout → 504, init error / exception / crash → 502) →
  `responses.from_proxy` (malformed → 502) → `HttpResponse` (no body for HEAD).
Unknown routes differ from AWS on purpose: AWS answers 403 "Missing Authentication
Token" for both cases; locally 404/405 say what is actually wrong.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from stagewise.runtime.auth import AuthFailure, CognitoVerifier
from stagewise.runtime.authorizers import AuthCall, AuthorizerDeps, Authorizers, AuthResult
from stagewise.runtime.events import (
    ApiContext,
    HttpRequest,
    lambda_trace_header,
    new_request_id,
    new_trace_root,
    proxy_event,
)
from stagewise.runtime.model import RestApiSpec, RouteSpec, RuntimeModel
from stagewise.runtime.responses import (
    LAMBDA_RESPONSE_LIMIT,
    HttpResponse,
    MalformedResponse,
    from_proxy,
    gateway_error,
)
from stagewise.runtime.routing import Match, RouteMatch, RouteTable
from stagewise.runtime.workers import InvokeStatus, WorkerSet
from stagewise.tracing.emit import GatewayTracer
from stagewise.tracing.segments import GatewayRequest

PAYLOAD_LIMIT = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_S = 29.0
INTERNAL = "Internal server error"


class Gateway:
    def __init__(self, model: RuntimeModel, api: RestApiSpec, *, workers: WorkerSet, verifier: CognitoVerifier,
                 region: str, log: Callable[[str], None]) -> None:
        self.model = model
        self.api = api
        self.table = RouteTable(api.routes)
        self._workers = workers
        self._verifier = verifier
        self._log = log
        account = next((f.account_id for f in model.functions.values() if f.account_id), "000000000000")
        self.context = ApiContext(account_id=account, api_id=api.api_id, stage=api.stage, region=region,
                                  stage_variables=api.stage_variables)
        self.tracer = GatewayTracer(name=f"{api.name}/{api.stage}", traced=api.tracing, env=workers.base_env)
        self.authorizers = Authorizers(AuthorizerDeps(model=model, workers=workers, region=region, log=log,
                                                      cognito=verifier, base_env=workers.base_env))
        refused: dict[str, list[str]] = {}
        for route in api.routes:
            if route.function and not self.authorizers.supports(route.authorization):
                refused.setdefault(route.authorization, []).append(f"{route.method} {route.path}")
        for kind, routes in sorted(refused.items()):
            log(f"warning: {kind} authorization is not emulated locally; these routes answer 500: {', '.join(routes)}")

    async def handle(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = new_request_id()
        span = self.tracer.begin(request.headers)  # the integration sees the trace in X-Amzn-Trace-Id
        response = await self._respond(request, request_id)
        if request.method == "HEAD":
            response.body = b""
        self.tracer.end(span, self._traced(request, response.status, request_id))
        if span.sampled:
            response.headers.append(("X-Amzn-Trace-Id", f"Root={span.trace_id};Sampled=1"))  # as API Gateway answers
        elapsed = (time.perf_counter() - started) * 1000
        self._log(f"{request.method} {request.path} {response.status} {elapsed:.1f} ms  trace {span.trace_id}")
        return response

    def _traced(self, request: HttpRequest, status: int, request_id: str) -> GatewayRequest:
        api = self.context
        return GatewayRequest(method=request.method, url=f"https://{api.domain_name}/{api.stage}{request.path}",
                              client_ip=request.source_ip, user_agent=request.header("user-agent"), status=status,
                              request_id=request_id, api_id=api.api_id, stage=api.stage,
                              account_id=api.account_id, region=api.region)

    async def _respond(self, request: HttpRequest, request_id: str) -> HttpResponse:
        if len(request.body) > PAYLOAD_LIMIT:
            return gateway_error(413, "Request Too Long", error_type="RequestTooLarge", request_id=request_id)
        match = self.table.match(request.method, request.path)
        if request.method == "OPTIONS" and match.kind is Match.FULL and match.route.integration_type == "MOCK":
            return _mock(match.route, request_id)  # the API's own preflight, as its template answers it
        if match.kind is Match.NONE:
            return gateway_error(404, "Not Found", error_type="NotFoundException", request_id=request_id)
        if match.kind is Match.PARTIAL:
            response = gateway_error(405, "Method Not Allowed", error_type="MethodNotAllowedException",
                                     request_id=request_id)
            response.headers.append(("Allow", ", ".join(match.allowed)))
            return response
        return await self._integrate(request, match, request_id)

    async def _integrate(self, request: HttpRequest, match: RouteMatch, request_id: str) -> HttpResponse:
        route = match.route
        if route.integration_type == "MOCK":
            return _mock(route, request_id)
        if route.function is None:
            self._log(f"{route.method} {route.path}: integration {route.integration_type} has no local function")
            return gateway_error(500, INTERNAL, error_type="InternalServerErrorException", request_id=request_id)
        call = AuthCall(api=self.context, method=request.method, path=request.path,
                        path_parameters=match.path_parameters, request_id=request_id,
                        authorizer=self.model.authorizers.get(route.authorizer_id or ""))
        try:
            auth = await self._authorize(request, route, call)
        except AuthFailure as exc:
            self._log(f"{request.method} {request.path}: {exc.status} ({exc.reason})")
            return _auth_error(exc, request_id)
        event = proxy_event(request, route=route, path_parameters=match.path_parameters, api=self.context,
                            authorizer=auth.authorizer, identity=auth.identity, request_id=request_id)
        root = next((v for k, v in event["headers"].items() if k.lower() == "x-amzn-trace-id"), None) or new_trace_root()
        pool = self._workers.pool(route.function)
        return await self._invoke(route.function, event, request_id, lambda_trace_header(root, sampled=pool.sampled))

    async def _authorize(self, request: HttpRequest, route: RouteSpec, call: AuthCall) -> AuthResult:
        """On the loop for a plug-in that never waits on I/O, else in the loop's executor (a JWKS fetch,
        the IAM policies' refresh, a Lambda authorizer's invocation must not stall other requests)."""
        if not self.authorizers.blocks(route.authorization):
            return self.authorizers.authorize(request, route, call)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.authorizers.authorize, request, route, call)

    async def _invoke(self, function: str, event: dict[str, Any], request_id: str, trace: str) -> HttpResponse:
        result = await self._workers.pool(function).invoke_async(event, request_id=request_id,
                                                                 wait_s=INTEGRATION_TIMEOUT_S, trace_id=trace)
        if result.status is InvokeStatus.TIMEOUT:
            return gateway_error(504, "Endpoint request timed out", error_type="InternalServerErrorException",
                                 request_id=request_id)
        if result.status is not InvokeStatus.OK:
            error = result.error or {}
            self._log(f"[{function}] {request_id} {result.status.value}: {error.get('errorType')}: "
                      f"{error.get('errorMessage', '')}")
            return gateway_error(502, INTERNAL, error_type="InternalServerErrorException", request_id=request_id)
        try:
            response = from_proxy(result.payload, request_id=request_id)
            if len(response.body) > LAMBDA_RESPONSE_LIMIT:
                raise MalformedResponse(f"body is {len(response.body)} bytes, over Lambda's 6 MB limit")
        except MalformedResponse as exc:
            self._log(f"[{function}] {request_id} Malformed Lambda proxy response: {exc}")
            return gateway_error(502, INTERNAL, error_type="InternalServerErrorException", request_id=request_id)
        return response

_AUTH_ERROR_TYPES = {401: "UnauthorizedException", 403: "AccessDeniedException"}


def _auth_error(exc: AuthFailure, request_id: str) -> HttpResponse:
    kind = _AUTH_ERROR_TYPES.get(exc.status, "AuthorizerConfigurationException")
    if exc.key == "message":
        return gateway_error(exc.status, exc.message, error_type=kind, request_id=request_id)  # type: ignore[arg-type]
    headers = [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", kind)]
    return HttpResponse(exc.status, headers, json.dumps({exc.key: exc.message}).encode())


def _mock(route: RouteSpec, request_id: str) -> HttpResponse:
    headers = [*route.mock_headers.items(), ("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)]
    return HttpResponse(200, headers, b"")
