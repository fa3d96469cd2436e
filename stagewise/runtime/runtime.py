"""`Runtime`: the local API Gateway + Lambda for one stage, as `stagewise dev` runs it.

Data flow: a `RuntimeModel` (from the deployed stacks) → one `WorkerSet` (warm
function workers), one `Gateway` per REST API (the API with most routes is served at
`/`, every API also at `/restapis/<api-id>/<stage>/_user_request_/...`), a Cognito
verifier, the hot-reload watcher, the HTTP server and the SNS → Lambda delivery
(`delivery.py`: one poller per subscription, started and stopped with the server). `dispatch()` routes each HTTP
request to the right gateway or to the local pages (/openapi.json, /docs, /_stagewise/traces);
`invoke()` calls a function directly (`stagewise invoke`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stagewise.errors import UserError
from stagewise.runtime import openapi
from stagewise.runtime.auth import CognitoVerifier
from stagewise.runtime.delivery import Delivery, DeliverySettings, cloud_clients
from stagewise.runtime.events import HttpRequest, new_request_id
from stagewise.runtime.gateway import Gateway
from stagewise.runtime.hosts import HostRouter
from stagewise.runtime.model import RuntimeModel
from stagewise.runtime.reload import Reloader, watched_roots
from stagewise.runtime.responses import HttpResponse, gateway_error
from stagewise.runtime.routing import Match
from stagewise.runtime.server import HttpServer
from stagewise.runtime.template import Template
from stagewise.runtime.workers import DEFAULT_MAX_WORKERS, InvokeResult, InvokeStatus, WorkerSet
from stagewise.tracing.local import TRACES_PAGE

if TYPE_CHECKING:
    from stagewise.tracing.local import LocalTracing

_API_PREFIX = "/restapis/"
_USER_REQUEST = "/_user_request_"


class Runtime:
    def __init__(self, model: RuntimeModel, *, repo_root: Path, worker_env: dict[str, str], region: str,
                 log: Callable[[str], None] = print, api: str | None = None, hot_reload: bool = True,
                 max_workers: int = DEFAULT_MAX_WORKERS, cognito_endpoint: str | None = None,
                 delivery: DeliverySettings | None = None, tracing: LocalTracing | None = None,
                 templates: bool | Mapping[str, Template] = True) -> None:
        """`tracing`: the stage's local traces and function logs (`stagewise dev`); the workers' variables
        name its daemon."""
        self.model = model
        self.tracing = tracing
        self.repo_root = Path(repo_root).resolve()
        self.region = region
        self._log = log
        self._worker_env = dict(worker_env)
        self.workers = WorkerSet(model.functions, base_env=worker_env, repo_root=self.repo_root, region=region,
                                 log=log, max_workers=max_workers, templates=templates,
                                 source_roots=self._watch_roots(),
                                 function_log=tracing.logs.write if tracing is not None else None)
        endpoint = cognito_endpoint or worker_env.get("AWS_ENDPOINT_URL")
        self._clients: dict[str, set[str]] = {k: set(v) for k, v in model.user_pool_clients.items()}
        self._clients_lock = threading.Lock()
        self.verifier = verifier = CognitoVerifier(endpoint=endpoint, clients=self._pool_clients)
        self.gateways = {api_id: Gateway(model, spec, workers=self.workers, verifier=verifier, region=region, log=log)
                         for api_id, spec in model.apis.items()}
        self.hosts = HostRouter(model.host_routes, self.gateways)  # custom domains, by Host header
        default = model.api(api)
        self.gateway = self.gateways[default.api_id] if default is not None else None
        self._reloader = Reloader(self.workers, self._watch_roots(), log=log) if hot_reload else None
        self._server: HttpServer | None = None
        self._delivery_settings = delivery
        self.delivery: Delivery | None = None
        self.url: str | None = None
        for warning in model.warnings:
            log(f"warning: {warning}")

    def _watch_roots(self) -> list[Path]:
        return watched_roots((f.source_dir for f in self.model.functions.values()), self.repo_root)

    def start(self, host: str = "127.0.0.1", port: int = 3000) -> str:
        try:
            self._server = HttpServer(self.dispatch, host=host, port=port)
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another port with --port") from exc
        if self._reloader is not None:
            self._reloader.start()
        self.url = self._server.start()
        pools = {pool for spec in self.model.authorizers.values() for pool in spec.user_pools}
        threading.Thread(target=self.verifier.prefetch, args=(sorted(pools),), name="jwks-prefetch", daemon=True).start()
        self._start_delivery()
        return self.url

    def _start_delivery(self) -> None:
        if not self.model.subscriptions or self.delivery is not None:
            return
        self.delivery = Delivery(self.model, workers=self.workers, log=self._log, settings=self._delivery_settings,
                                 clients=lambda: cloud_clients(self._worker_env, region=self.region))
        self.delivery.start()

    def stop(self) -> None:
        if self.delivery is not None:
            self.delivery.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._reloader is not None:
            self._reloader.stop()
        self.workers.stop()
        if self.delivery is not None:
            self.delivery.join()
            self.delivery = None

    def invoke(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """The function's payload, or Lambda's error object ({errorMessage, errorType, ...}) if it failed."""
        result = self.invoke_result(function, event)
        if result.ok:
            return result.payload
        if result.status is InvokeStatus.TIMEOUT:
            seconds = self.model.function(function).timeout_s
            return {"errorMessage": f"{result.request_id} Task timed out after {seconds:.2f} seconds",
                    "errorType": "Sandbox.Timedout"}
        return result.error or {"errorType": "Runtime.Unknown", "errorMessage": result.status.value}

    def invoke_result(self, function: str, event: dict[str, Any]) -> InvokeResult:
        spec = self.model.function(function)
        return self.workers.pool(spec.logical_id).invoke(event)

    def openapi(self) -> dict[str, Any]:
        if self.gateway is None:
            return openapi.merge([], title="no API deployed", version="local", server_url=self.url or "/")
        functions = sorted({r.function for r in self.gateway.api.routes if r.function})
        schemas = []
        for logical_id in functions:
            reply = self.workers.pool(logical_id).call_worker({"type": "openapi"}, timeout_s=10)
            if reply and reply.get("schema"):
                schemas.append(reply["schema"])
        api = self.gateway.api
        return openapi.merge(schemas, title=api.name, version=api.stage, server_url=self.url or "/")

    async def dispatch(self, request: HttpRequest) -> HttpResponse:
        """The HTTP server's app, awaited on its event loop."""
        by_host = self.hosts.gateway_for(request)
        if by_host is not None:
            return await by_host.handle(request)
        if request.path.startswith(_API_PREFIX):
            return await self._dispatch_prefixed(request)
        if self.gateway is None:
            return gateway_error(404, "Not Found", error_type="NotFoundException", request_id=new_request_id())
        if (request.method == "GET" and self._may_be_local_page(request.path)
                and self.gateway.table.match("GET", request.path).kind is Match.NONE):
            # the local pages ask every function's worker for its schema: off the loop
            page = await asyncio.get_running_loop().run_in_executor(None, self._local_page, request.path)
            if page is not None:
                return page
        return await self.gateway.handle(request)

    async def _dispatch_prefixed(self, request: HttpRequest) -> HttpResponse:
        head, _, rest = request.path[len(_API_PREFIX):].partition(_USER_REQUEST)
        gateway = self.gateways.get(head.split("/", 1)[0])
        if gateway is None:
            return gateway_error(404, "Not Found", error_type="NotFoundException", request_id=new_request_id())
        request.path = rest or "/"
        return await gateway.handle(request)

    @staticmethod
    def _may_be_local_page(path: str) -> bool:
        """A cheap first look (before matching the API's routes) at whether `_local_page` may serve `path`."""
        return path in ("/openapi.json", "/docs") or path in openapi.ASSETS or path.startswith(TRACES_PAGE)

    def _local_page(self, path: str) -> HttpResponse | None:
        if path == "/openapi.json":
            body = json.dumps(self.openapi()).encode()
            return HttpResponse(200, [("Content-Type", "application/json")], body)
        if path == "/docs":
            html = openapi.docs_page(self.openapi()).encode()
            return HttpResponse(200, [("Content-Type", "text/html; charset=utf-8")], html)
        traces = self.tracing.page(path) if self.tracing is not None else None
        if traces is not None:
            return HttpResponse(200, [("Content-Type", "text/html; charset=utf-8")], traces.encode())
        asset = openapi.asset(path)
        if asset is not None:
            return HttpResponse(200, [("Content-Type", asset[1]), ("Cache-Control", "max-age=3600")], asset[0])
        return None

    def _pool_clients(self, pool_id: str) -> set[str]:
        """App clients of a pool: those the stacks declare, else asked of the local cloud once."""
        with self._clients_lock:
            if pool_id not in self._clients:
                self._clients[pool_id] = self._fetch_clients(pool_id)
            return self._clients[pool_id]

    def _fetch_clients(self, pool_id: str) -> set[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        from stagewise.cloud.accounts import env_client

        client = env_client("cognito-idp", self._worker_env, region=self.region)
        try:
            pages = client.get_paginator("list_user_pool_clients").paginate(UserPoolId=pool_id, MaxResults=60)
            return {c["ClientId"] for page in pages for c in page["UserPoolClients"]}
        except (BotoCoreError, ClientError) as exc:
            self._log(f"warning: cannot list the app clients of user pool {pool_id}: {exc}")
            return set()
