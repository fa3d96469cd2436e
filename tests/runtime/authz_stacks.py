"""A deployed-stack state with Lambda authorizers for the gateway's authorizer tests (stacks.py style).

API `authzapi`, stage `dev` (stage variable v=1); every route integrates `Echo` (answers its event):

    GET  /pets/{id}      CUSTOM  Token (TOKEN, Authorization, TTL 300)
    GET  /secret         CUSTOM  Token
    ANY  /things         CUSTOM  Token
    GET  /nocache        CUSTOM  TokenNoCache (TOKEN, X-Token, IdentityValidationExpression, TTL 0)
    GET  /req/{id}       CUSTOM  Request (REQUEST, header X-Key + querystring q, TTL 0)
    GET  /iam            AWS_IAM
    GET  /weird          SOMETHING_ELSE (a type nothing emulates)
    GET  /dangling       CUSTOM  an authorizer id that is not deployed
    GET  /lost           CUSTOM  Lost (TOKEN whose AuthorizerUri names no deployed function)
"""

from __future__ import annotations

from stagewise.provisioner.state import ResourceState, StackState
from tests.runtime.stacks import ECHO, REGION, _stack, function, function_arn

API_ID = "authzapi"
ROOT_ID = "aroot"
AUTH = "services/lambda_auth"
TOKEN_ID, NOCACHE_ID, REQUEST_ID, LOST_ID = "tok1", "tok0", "req1", "lost1"


def authorizer_uri(name: str) -> str:
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn(name)}/invocations"


def _authorizer(logical_id: str, physical_id: str, kind: str, function_name: str, **props) -> ResourceState:
    return ResourceState(logical_id, "AWS::ApiGateway::Authorizer", physical_id, {
        "RestApiId": API_ID, "Type": kind, "Name": logical_id, "AuthorizerUri": authorizer_uri(function_name),
        **props})


def _method(logical_id: str, resource_id: str, verb: str, authorization: str,
            authorizer_id: str | None = None) -> ResourceState:
    props = {"RestApiId": API_ID, "ResourceId": resource_id, "HttpMethod": verb, "AuthorizationType": authorization,
             "Integration": {"Type": "AWS_PROXY", "IntegrationHttpMethod": "POST",
                             "Uri": authorizer_uri("dev-t-Echo")}}
    if authorizer_id:
        props["AuthorizerId"] = authorizer_id
    return ResourceState(logical_id, "AWS::ApiGateway::Method", f"m-{logical_id}", props)


def _resource(logical_id: str, physical_id: str, parent: str, part: str) -> ResourceState:
    return ResourceState(logical_id, "AWS::ApiGateway::Resource", physical_id,
                         {"RestApiId": API_ID, "ParentId": parent, "PathPart": part})


def authz_stack() -> StackState:
    resources = [
        ResourceState("Api", "AWS::ApiGateway::RestApi", API_ID, {"Name": "dev-t-authz"},
                      attributes={"RootResourceId": ROOT_ID}),
        ResourceState("Stage", "AWS::ApiGateway::Stage", "dev",
                      {"RestApiId": API_ID, "StageName": "dev", "DeploymentId": "d1", "Variables": {"v": "1"}}),
        function("Echo", "echo_fn.handlers.echo", ECHO),
        function("TokenFn", "lambda_auth_fn.handlers.token", AUTH, timeout=1),
        function("RequestFn", "lambda_auth_fn.handlers.request", AUTH),
        _authorizer("Token", TOKEN_ID, "TOKEN", "dev-t-TokenFn",
                    IdentitySource="method.request.header.Authorization"),  # TTL unset: 300
        _authorizer("TokenNoCache", NOCACHE_ID, "TOKEN", "dev-t-TokenFn",
                    IdentitySource="method.request.header.X-Token", IdentityValidationExpression="^[a-z-]+$",
                    AuthorizerResultTtlInSeconds=0),
        _authorizer("Request", REQUEST_ID, "REQUEST", "dev-t-RequestFn",
                    IdentitySource="method.request.header.X-Key, method.request.querystring.q",
                    AuthorizerResultTtlInSeconds="0"),
        _authorizer("Lost", LOST_ID, "TOKEN", "dev-t-Nowhere", IdentitySource="method.request.header.Authorization"),
        _resource("RPets", "r-pets", ROOT_ID, "pets"),
        _resource("RPetId", "r-pet-id", "r-pets", "{id}"),
        _method("MPet", "r-pet-id", "GET", "CUSTOM", TOKEN_ID),
        _resource("RSecret", "r-secret", ROOT_ID, "secret"),
        _method("MSecret", "r-secret", "GET", "CUSTOM", TOKEN_ID),
        _resource("RThings", "r-things", ROOT_ID, "things"),
        _method("MThings", "r-things", "ANY", "CUSTOM", TOKEN_ID),
        _resource("RNoCache", "r-nocache", ROOT_ID, "nocache"),
        _method("MNoCache", "r-nocache", "GET", "CUSTOM", NOCACHE_ID),
        _resource("RReq", "r-req", ROOT_ID, "req"),
        _resource("RReqId", "r-req-id", "r-req", "{id}"),
        _method("MReq", "r-req-id", "GET", "CUSTOM", REQUEST_ID),
        _resource("RIam", "r-iam", ROOT_ID, "iam"),
        _method("MIam", "r-iam", "GET", "AWS_IAM"),
        _resource("RWeird", "r-weird", ROOT_ID, "weird"),
        _method("MWeird", "r-weird", "GET", "SOMETHING_ELSE"),
        _resource("RDangling", "r-dangling", ROOT_ID, "dangling"),
        _method("MDangling", "r-dangling", "GET", "CUSTOM", "not-deployed"),
        _resource("RLost", "r-lost", ROOT_ID, "lost"),
        _method("MLost", "r-lost", "GET", "CUSTOM", LOST_ID),
    ]
    return _stack("dev-t-authz", resources)
