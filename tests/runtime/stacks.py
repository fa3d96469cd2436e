"""Deployed-stack states for the runtime tests, shaped like the provisioner's output."""

from __future__ import annotations

from pathlib import Path

from stagewise.provisioner.state import ResourceState, StackState, StackStatus

FIXTURE_APP = Path(__file__).parent / "fixtures" / "app"
REGION = "us-east-1"
ACCOUNT = "123456789012"
API_ID = "api123"
ROOT_ID = "root0"
AUTHORIZER_ID = "auth1"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def uri(name: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn(name)}/invocations"


def function(logical_id: str, handler: str, source: str, *, env: dict | None = None,
             timeout: int = 3) -> ResourceState:
    name = f"dev-t-{logical_id}"
    return ResourceState(
        logical_id=logical_id,
        type="AWS::Lambda::Function",
        physical_id=name,
        properties={"Handler": handler, "Runtime": "python3.12", "Timeout": timeout, "MemorySize": 256,
                    "Environment": {"Variables": env or {}}},
        attributes={"Arn": function_arn(name)},
        metadata={"stagewise": {"service": source.split("/")[-1], "source": source}},
    )


def resource(logical_id: str, physical_id: str, parent: str, part: str) -> ResourceState:
    return ResourceState(logical_id, "AWS::ApiGateway::Resource", physical_id,
                         {"RestApiId": API_ID, "ParentId": parent, "PathPart": part})


def method(logical_id: str, resource_id: str, http_method: str, function_name: str | None, *,
           auth: bool = False) -> ResourceState:
    props: dict = {"RestApiId": API_ID, "ResourceId": resource_id, "HttpMethod": http_method,
                   "AuthorizationType": "COGNITO_USER_POOLS" if auth else "NONE"}
    if auth:
        props["AuthorizerId"] = AUTHORIZER_ID
    if function_name:
        props["Integration"] = {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST", "Uri": uri(function_name)}
    else:
        props["Integration"] = {"Type": "MOCK", "IntegrationResponses": [{"StatusCode": "200", "ResponseParameters": {
            "method.response.header.Access-Control-Allow-Origin": "'https://app.example.com'",
            "method.response.header.Access-Control-Allow-Methods": "'GET,OPTIONS'"}}]}
    return ResourceState(logical_id, "AWS::ApiGateway::Method", f"m-{logical_id}", props)


ECHO = "services/echo"
ROUTES = [  # (path part, function logical id, handler, source, method)
    ("echo", "Echo", "echo_fn.handlers.echo", ECHO, "ANY"),
    ("env", "Env", "echo_fn.handlers.env", ECHO, "GET"),
    ("pid", "Pid", "echo_fn.handlers.pid", ECHO, "GET"),
    ("sleep", "Sleep", "echo_fn.handlers.sleep", ECHO, "GET"),
    ("malformed", "Malformed", "echo_fn.handlers.malformed", ECHO, "GET"),
    ("crash", "Crash", "echo_fn.handlers.crash", ECHO, "GET"),
    ("fail", "Fail", "echo_fn.handlers.fail", ECHO, "GET"),
    ("binary", "Binary", "echo_fn.handlers.binary", ECHO, "GET"),
    ("other", "Other", "other_fn.handlers.env", "services/other", "GET"),
    ("broken", "Broken", "broken_fn.handlers.handler", "services/broken", "GET"),
    ("reload", "Reload", "reload_fn.handlers.handler", "services/reload", "GET"),
]


def api_stack(pool_id: str = "us-east-1_pool") -> StackState:
    resources = [
        ResourceState("Api", "AWS::ApiGateway::RestApi", API_ID, {"Name": "dev-t-api"},
                      attributes={"RootResourceId": ROOT_ID}),
        ResourceState("Deployment", "AWS::ApiGateway::Deployment", "dep1", {"RestApiId": API_ID}),
        ResourceState("Stage", "AWS::ApiGateway::Stage", "dev",
                      {"RestApiId": API_ID, "StageName": "dev", "DeploymentId": "dep1", "Variables": {"v": "1"}}),
        ResourceState("Auth", "AWS::ApiGateway::Authorizer", AUTHORIZER_ID, {
            "RestApiId": API_ID, "Type": "COGNITO_USER_POOLS", "Name": "cognito",
            "IdentitySource": "method.request.header.Authorization",
            "ProviderARNs": [f"arn:aws:cognito-idp:{REGION}:{ACCOUNT}:userpool/{pool_id}"]}),
    ]
    envs = {"Echo": {"ECHO_ONLY": "echo-secret-name"}, "Env": {"ENV_ONLY": "a", "FLAG": True},
            "Other": {"OTHER_ONLY": "b"}}
    for part, logical_id, handler, source, verb in ROUTES:
        timeout = 1 if logical_id == "Sleep" else 3
        resources.append(function(logical_id, handler, source, env=envs.get(logical_id), timeout=timeout))
        resources.append(resource(f"R{logical_id}", f"r-{part}", ROOT_ID, part))
        resources.append(method(f"M{logical_id}", f"r-{part}", verb, f"dev-t-{logical_id}"))
    resources += [
        function("Items", "api_fn.app.handler", "services/api"),
        resource("RItems", "r-items", ROOT_ID, "items"),
        resource("RItemId", "r-item-id", "r-items", "{item_id}"),
        method("MItemGet", "r-item-id", "GET", "dev-t-Items"),
        resource("RFiles", "r-files", ROOT_ID, "files"),
        resource("RFilesProxy", "r-files-proxy", "r-files", "{proxy+}"),
        method("MFiles", "r-files-proxy", "GET", "dev-t-Echo"),
        resource("RSecure", "r-secure", ROOT_ID, "secure"),
        method("MSecure", "r-secure", "GET", "dev-t-Echo", auth=True),
        method("MSecureOptions", "r-secure", "OPTIONS", None),
        method("MRoot", ROOT_ID, "GET", "dev-t-Echo"),
    ]
    return _stack("dev-t-api", resources)


def billing_stack() -> StackState:
    """Attaches a route to the API of another stack and subscribes a function to a topic."""
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:dev-note-purchased"
    resources = [
        function("Billing", "echo_fn.handlers.echo", ECHO),
        resource("RBilling", "r-billing", ROOT_ID, "billing"),
        method("MBilling", "r-billing", "POST", "dev-t-Billing"),
        ResourceState("Sub", "AWS::SNS::Subscription", f"{topic}:sub1",
                      {"Protocol": "lambda", "TopicArn": topic, "Endpoint": function_arn("dev-t-Billing")}),
    ]
    return _stack("dev-t-billing", resources)


def _stack(name: str, resources: list[ResourceState]) -> StackState:
    return StackState(name=name, status=StackStatus.CREATE_COMPLETE, template={},
                      resources={r.logical_id: r for r in resources})
