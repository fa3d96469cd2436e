"""What the local runtime serves, read from the stage's deployed stacks.

Data flow: `StackState`s (resolved properties, physical ids, attributes) from the
provisioner → `RuntimeModel.from_stacks()` → functions, REST APIs with their routes,
authorizers (Cognito user pools, Lambda TOKEN / REQUEST) and SNS→Lambda subscriptions. Nothing here is hand-written: a
route exists locally because a deployed `AWS::ApiGateway::Method` declares it.

Methods are matched to their RestApi by the resolved `RestApiId`, so a method in one
stack (billing-api) attaches to an API owned by another (notes-api). Resource paths
are rebuilt by walking `ParentId` chains across every stack up to the API's root.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stagewise.errors import UserError
from stagewise.provisioner.state import ResourceState, StackState
from stagewise.runtime.hosts import HostRoute, host_routes

DEFAULT_TIMEOUT_S = 3
DEFAULT_MEMORY_MB = 128
DEFAULT_STAGE = "local"
DEFAULT_AUTHORIZER_TTL_S = 300  # API Gateway's AuthorizerResultTtlInSeconds when unset
ASYNC_RETRIES = 2  # Lambda's default MaximumRetryAttempts for asynchronous invocations
_FUNCTION_IN_URI = re.compile(r"/functions/(arn:[^/]+)/invocations")
_USER_POOL_ARN = re.compile(r"^arn:aws[a-z-]*:cognito-idp:([a-z0-9-]+):\d{12}:userpool/(.+)$")


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    name: str  # physical id = FunctionName
    arn: str
    handler: str  # "pkg.module.attr"
    source_dir: Path
    environment: dict[str, str]
    timeout_s: int
    memory_mb: int
    runtime: str = "python3.12"
    stack: str = ""
    # Asynchronous invocation (SNS): retries after a failure, then where the event goes.
    max_retry_attempts: int = ASYNC_RETRIES  # EventInvokeConfig.MaximumRetryAttempts
    dead_letter_arn: str | None = None  # DeadLetterConfig.TargetArn: gets the event
    on_failure_arn: str | None = None  # EventInvokeConfig OnFailure destination: gets an invocation record
    tracing: bool = False  # TracingConfig Mode Active: sampled when the caller did not decide

    @property
    def region(self) -> str:
        return _arn_part(self.arn, 3)

    @property
    def account_id(self) -> str:
        return _arn_part(self.arn, 4)


@dataclass(frozen=True)
class AuthorizerSpec:
    """One deployed `AWS::ApiGateway::Authorizer`: COGNITO_USER_POOLS, or a Lambda one (TOKEN / REQUEST)."""

    authorizer_id: str
    name: str
    user_pools: tuple[tuple[str, str], ...]  # (region, pool id); COGNITO_USER_POOLS only
    header: str  # the request header holding the token, e.g. "Authorization" (COGNITO_USER_POOLS, TOKEN)
    type: str = "COGNITO_USER_POOLS"  # or TOKEN / REQUEST
    function: str | None = None  # TOKEN / REQUEST: logical id of the function named by AuthorizerUri
    function_arn: str = ""  # ... and that ARN as the template resolved it
    identity_sources: tuple[str, ...] = ()  # "method.request.header.X", "method.request.querystring.q", ...
    validation_expression: str | None = None  # TOKEN: IdentityValidationExpression
    ttl_s: int = DEFAULT_AUTHORIZER_TTL_S  # AuthorizerResultTtlInSeconds; 0 = no cache


@dataclass(frozen=True)
class RouteSpec:
    api_id: str
    path: str  # "/notes/{id}"
    method: str  # "GET", ..., "ANY"
    resource_id: str
    function: str | None  # logical id of the integrated function; None for MOCK / other
    integration_type: str
    authorization: str  # NONE / COGNITO_USER_POOLS / AWS_IAM / CUSTOM
    authorizer_id: str | None = None
    scopes: tuple[str, ...] = ()
    mock_headers: dict[str, str] = field(default_factory=dict)  # MOCK integration response headers


@dataclass
class RestApiSpec:
    api_id: str
    name: str
    root_id: str
    stage: str = DEFAULT_STAGE
    stage_variables: dict[str, str] = field(default_factory=dict)
    routes: list[RouteSpec] = field(default_factory=list)
    tracing: bool = False  # the stage's TracingEnabled: API Gateway writes a segment per request


@dataclass(frozen=True)
class SubscriptionSpec:
    logical_id: str
    topic_arn: str
    function: str  # logical id of the subscribed function
    raw_message_delivery: bool = False
    filter_policy: dict[str, Any] | None = None
    subscription_arn: str = ""  # what the function sees as EventSubscriptionArn
    delivery_queue_url: str | None = None  # the provisioner's stand-in queue the runtime polls


@dataclass
class RuntimeModel:
    functions: dict[str, FunctionSpec]  # logical id -> spec
    apis: dict[str, RestApiSpec]  # api id -> spec
    authorizers: dict[str, AuthorizerSpec]  # authorizer id -> spec
    subscriptions: list[SubscriptionSpec]
    user_pool_clients: dict[str, set[str]]  # pool id -> app client ids declared in the stacks
    warnings: list[str] = field(default_factory=list)
    host_routes: list[HostRoute] = field(default_factory=list)  # custom domains' base path mappings (hosts.py)

    @classmethod
    def from_stacks(cls, states: Iterable[StackState], *, repo_root: Path) -> RuntimeModel:
        states = list(states)
        resources = [(s.name, r) for s in states for r in s.resources.values()]
        builder = _Builder(resources, Path(repo_root))
        return replace(builder.build(), host_routes=host_routes(states))

    def function(self, key: str) -> FunctionSpec:
        """A function by logical id, physical name or ARN."""
        if key in self.functions:
            return self.functions[key]
        for spec in self.functions.values():
            if key in (spec.name, spec.arn):
                return spec
        known = ", ".join(sorted(self.functions)) or "none"
        raise UserError(f"no function '{key}' in the deployed stacks (known: {known})")

    def default_api(self) -> RestApiSpec | None:
        """The API served at /: the one with the most routes."""
        if not self.apis:
            return None
        return max(self.apis.values(), key=lambda api: (len(api.routes), api.api_id))

    def api(self, key: str | None) -> RestApiSpec | None:
        """An API by id or name; None picks the default."""
        if key is None:
            return self.default_api()
        for api in self.apis.values():
            if key in (api.api_id, api.name):
                return api
        raise UserError(f"no REST API '{key}' in the deployed stacks (known: {', '.join(self.apis)})")


def _arn_part(arn: str, index: int) -> str:
    parts = arn.split(":")
    return parts[index] if len(parts) > index else ""


class _Builder:
    """Turns the flat list of resources of every stack into a RuntimeModel."""

    def __init__(self, resources: list[tuple[str, ResourceState]], repo_root: Path) -> None:
        self.resources = resources
        self.repo_root = repo_root
        self.warnings: list[str] = []

    def of_type(self, type_name: str) -> list[tuple[str, ResourceState]]:
        return [(stack, r) for stack, r in self.resources if r.type == type_name]

    def build(self) -> RuntimeModel:
        functions = {r.logical_id: self.function(stack, r) for stack, r in self.of_type("AWS::Lambda::Function")}
        by_arn = _function_index(functions.values())
        self.attach_invoke_configs(functions, by_arn)
        apis = self.apis()
        self.attach_stages(apis)
        self.attach_routes(apis, by_arn)
        return RuntimeModel(
            functions=functions,
            apis=apis,
            authorizers=self.authorizers(by_arn),
            subscriptions=self.subscriptions(by_arn),
            user_pool_clients=self.pool_clients(),
            warnings=self.warnings,
        )

    def function(self, stack: str, res: ResourceState) -> FunctionSpec:
        return function_spec(stack, res, self.repo_root)

    def attach_invoke_configs(self, functions: dict[str, FunctionSpec], by_arn: _QualifiedIndex) -> None:
        """Apply each `AWS::Lambda::EventInvokeConfig` (retries, on-failure destination) to its function."""
        for _, res in self.of_type("AWS::Lambda::EventInvokeConfig"):
            props = res.properties
            logical_id = by_arn.get(str(props.get("FunctionName", "")))
            if logical_id is None:
                continue
            spec = functions[logical_id]
            on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
            functions[logical_id] = replace(
                spec,
                max_retry_attempts=int(props.get("MaximumRetryAttempts", spec.max_retry_attempts)),
                on_failure_arn=on_failure or None,
            )

    def apis(self) -> dict[str, RestApiSpec]:
        apis: dict[str, RestApiSpec] = {}
        for _, res in self.of_type("AWS::ApiGateway::RestApi"):
            root = res.attributes.get("RootResourceId", "")
            apis[res.physical_id] = RestApiSpec(res.physical_id, res.properties.get("Name", res.logical_id), root)
        return apis

    def attach_stages(self, apis: dict[str, RestApiSpec]) -> None:
        for type_name in ("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"):
            for _, res in self.of_type(type_name):
                api = apis.get(res.properties.get("RestApiId", ""))
                if api is None or not res.properties.get("StageName"):
                    continue
                api.stage = res.properties["StageName"]
                api.stage_variables = dict(res.properties.get("Variables") or {})
                api.tracing = api.tracing or str(res.properties.get("TracingEnabled", "")).lower() == "true"

    def attach_routes(self, apis: dict[str, RestApiSpec], by_arn: _QualifiedIndex) -> None:
        paths = self.resource_paths(apis)
        mocks = {}
        for stack, res in self.of_type("AWS::ApiGateway::Method"):
            props = res.properties
            api = apis.get(props.get("RestApiId", ""))
            if api is None:
                self.warnings.append(f"{stack}/{res.logical_id}: RestApiId {props.get('RestApiId')} is not deployed")
                continue
            resource_id = props.get("ResourceId", api.root_id)
            path = "/" if resource_id == api.root_id else paths.get(resource_id)
            if path is None:
                self.warnings.append(f"{stack}/{res.logical_id}: resource {resource_id} has no path")
                continue
            route = self.route(stack, res, api_id=api.api_id, path=path, by_arn=by_arn)
            if route.integration_type == "MOCK":
                mocks[(api.api_id, path)] = route
            api.routes.append(route)

    def route(self, stack: str, res: ResourceState, *, api_id: str, path: str, by_arn: _QualifiedIndex) -> RouteSpec:
        props = res.properties
        integration = props.get("Integration") or {}
        kind = integration.get("Type", "MOCK")
        function = None
        if kind in ("AWS_PROXY", "AWS"):
            match = _FUNCTION_IN_URI.search(str(integration.get("Uri", "")))
            function = by_arn.get(match.group(1)) if match else None
            if function is None:
                self.warnings.append(f"{stack}/{res.logical_id}: integration {integration.get('Uri')} names no known function")
        return RouteSpec(
            api_id=api_id,
            path=path,
            method=props.get("HttpMethod", "ANY").upper(),
            resource_id=props.get("ResourceId", ""),
            function=function,
            integration_type=kind,
            authorization=props.get("AuthorizationType", "NONE"),
            authorizer_id=props.get("AuthorizerId"),
            scopes=tuple(props.get("AuthorizationScopes") or ()),
            mock_headers=_mock_headers(integration) if kind == "MOCK" else {},
        )

    def resource_paths(self, apis: dict[str, RestApiSpec]) -> dict[str, str]:
        nodes = {res.physical_id: (res.properties.get("ParentId", ""), res.properties.get("PathPart", ""))
                 for _, res in self.of_type("AWS::ApiGateway::Resource")}
        roots = {api.root_id for api in apis.values()}
        paths: dict[str, str] = {}
        for node_id in nodes:
            parts, current, seen = [], node_id, set()
            while current in nodes and current not in seen:
                seen.add(current)
                parent, part = nodes[current]
                parts.append(part)
                current = parent
            if current in roots:
                paths[node_id] = "/" + "/".join(reversed(parts))
        return paths

    def authorizers(self, by_arn: _QualifiedIndex) -> dict[str, AuthorizerSpec]:
        found: dict[str, AuthorizerSpec] = {}
        for stack, res in self.of_type("AWS::ApiGateway::Authorizer"):
            props = res.properties
            kind = props.get("Type")
            name = props.get("Name", res.logical_id)
            if kind == "COGNITO_USER_POOLS":
                pools = tuple(_pool_of(arn) for arn in props.get("ProviderARNs") or ())
                source = props.get("IdentitySource", "method.request.header.Authorization")
                found[res.physical_id] = AuthorizerSpec(
                    authorizer_id=res.physical_id, name=name, user_pools=pools, header=source.rsplit(".", 1)[-1],
                    identity_sources=(source,),
                )
            elif kind in ("TOKEN", "REQUEST"):
                found[res.physical_id] = self.lambda_authorizer(stack, res, by_arn)
            else:
                self.warnings.append(f"{stack}/{res.logical_id}: authorizer type {kind} is not emulated; "
                                     "methods using it are refused (500)")
        return found

    def lambda_authorizer(self, stack: str, res: ResourceState, by_arn: _QualifiedIndex) -> AuthorizerSpec:
        props = res.properties
        kind = props["Type"]
        match = _FUNCTION_IN_URI.search(str(props.get("AuthorizerUri", "")))
        function_arn = match.group(1) if match else ""
        function = by_arn.get(function_arn) if function_arn else None
        if function is None:
            self.warnings.append(f"{stack}/{res.logical_id}: AuthorizerUri {props.get('AuthorizerUri')} names no "
                                 "known function; methods using it are refused (500)")
        default_source = "method.request.header.Authorization" if kind == "TOKEN" else ""
        raw = str(props.get("IdentitySource", default_source) or "")
        sources = tuple(part.strip() for part in raw.split(",") if part.strip())
        ttl = props.get("AuthorizerResultTtlInSeconds")
        return AuthorizerSpec(
            authorizer_id=res.physical_id,
            name=props.get("Name", res.logical_id),
            user_pools=(),
            header=sources[0].rsplit(".", 1)[-1] if kind == "TOKEN" and sources else "",
            type=kind,
            function=function,
            function_arn=function_arn,
            identity_sources=sources,
            validation_expression=props.get("IdentityValidationExpression") or None,
            ttl_s=DEFAULT_AUTHORIZER_TTL_S if ttl in (None, "") else int(ttl),
        )

    def subscriptions(self, by_arn: _QualifiedIndex) -> list[SubscriptionSpec]:
        subs = []
        for stack, res in self.of_type("AWS::SNS::Subscription"):
            props = res.properties
            if props.get("Protocol") != "lambda":
                continue
            function = by_arn.get(props.get("Endpoint", ""))
            if function is None:
                self.warnings.append(f"{stack}/{res.logical_id}: endpoint {props.get('Endpoint')} is no known function")
                continue
            subs.append(SubscriptionSpec(
                logical_id=res.logical_id,
                topic_arn=props.get("TopicArn", ""),
                function=function,
                raw_message_delivery=str(props.get("RawMessageDelivery", "false")).lower() == "true",
                filter_policy=props.get("FilterPolicy"),
                subscription_arn=res.physical_id,
                delivery_queue_url=res.attributes.get("DeliveryQueueUrl"),
            ))
        return subs

    def pool_clients(self) -> dict[str, set[str]]:
        clients: dict[str, set[str]] = {}
        for _, res in self.of_type("AWS::Cognito::UserPoolClient"):
            clients.setdefault(res.properties.get("UserPoolId", ""), set()).add(res.physical_id)
        return clients


def _function_index(functions: Iterable[FunctionSpec]) -> _QualifiedIndex:
    """ARN (also with an alias/version qualifier) and name → logical id."""
    index = _QualifiedIndex()
    for spec in functions:
        index[spec.arn] = spec.logical_id
        index[spec.name] = spec.logical_id
    return index


class _QualifiedIndex(dict[str, str]):
    """A dict that also finds `arn:...:function:name:alias` under its unqualified ARN."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        if key in self:
            return self[key]
        parts = key.split(":")
        if len(parts) == 8:
            return super().get(":".join(parts[:7]), default)
        return default


def _pool_of(arn: str) -> tuple[str, str]:
    match = _USER_POOL_ARN.match(arn)
    if not match:
        raise UserError(f"authorizer ProviderARN '{arn}' is not a Cognito user pool ARN")
    return match.group(1), match.group(2)


def _mock_headers(integration: dict[str, Any]) -> dict[str, str]:
    """Static headers a MOCK integration answers with (the CORS preflight pattern)."""
    headers: dict[str, str] = {}
    for response in integration.get("IntegrationResponses") or ():
        for key, value in (response.get("ResponseParameters") or {}).items():
            prefix = "method.response.header."
            if key.startswith(prefix) and isinstance(value, str):
                headers[key[len(prefix):]] = value.strip("'")
    return headers


def function_spec(stack: str, res: ResourceState, repo_root: Path) -> FunctionSpec:
    """What the runtime needs of one `AWS::Lambda::Function` (its code folder from Metadata.stagewise.source)."""
    props = res.properties
    source = (res.metadata.get("stagewise") or {}).get("source")
    if not source:
        raise UserError(
            f"function {res.logical_id} in stack {stack} has no Metadata.stagewise.source; "
            "create functions with ctx.function() so the runtime can find their code"
        )
    variables = ((props.get("Environment") or {}).get("Variables")) or {}
    return FunctionSpec(
        logical_id=res.logical_id,
        name=res.physical_id,
        arn=res.attributes.get("Arn") or f"arn:aws:lambda:us-east-1:000000000000:function:{res.physical_id}",
        handler=props.get("Handler", ""),
        source_dir=(repo_root / source).resolve(),
        environment={k: _env_str(v) for k, v in variables.items()},
        timeout_s=int(props.get("Timeout", DEFAULT_TIMEOUT_S)),
        memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
        runtime=props.get("Runtime", "python3.12"),
        stack=stack,
        dead_letter_arn=((props.get("DeadLetterConfig") or {}).get("TargetArn")) or None,
        tracing=(props.get("TracingConfig") or {}).get("Mode") == "Active",
    )


def _env_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
