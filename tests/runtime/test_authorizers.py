"""The authorizer plug-in registry, the Lambda authorizer's output checks and identity sources,
and what proxy_event does with a plug-in's result (no workers, no HTTP)."""

from __future__ import annotations

import pytest

from stagewise.runtime.authorizers import (
    AuthCall,
    AuthFailure,
    AuthorizerDeps,
    Authorizers,
    AuthResult,
    method_arn,
)
from stagewise.runtime.authorizers import base as registry
from stagewise.runtime.authorizers.custom import MalformedOutput, identity_values, parse_output
from stagewise.runtime.events import ApiContext, HttpRequest, proxy_event
from stagewise.runtime.model import AuthorizerSpec, RouteSpec, RuntimeModel
from tests.runtime.authz_stacks import NOCACHE_ID, REQUEST_ID, TOKEN_ID, authz_stack
from tests.runtime.stacks import FIXTURE_APP

API = ApiContext(account_id="123456789012", api_id="api1", stage="dev", region="us-east-1",
                 stage_variables={"tenant": "t1"})
ROUTE = RouteSpec(api_id="api1", path="/pets/{id}", method="GET", resource_id="r1", function="F",
                  integration_type="AWS_PROXY", authorization="CUSTOM", authorizer_id="a1")
ALLOW = {"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}


def call(authorizer: AuthorizerSpec | None = None, method: str = "GET", path: str = "/pets/1") -> AuthCall:
    return AuthCall(api=API, method=method, path=path, path_parameters={"id": "1"}, request_id="rid",
                    authorizer=authorizer)


def test_method_arn():
    assert call().method_arn == "arn:aws:execute-api:us-east-1:123456789012:api1/dev/GET/pets/1"
    assert method_arn(API, "POST", "/") == "arn:aws:execute-api:us-east-1:123456789012:api1/dev/POST/"


def test_the_model_reads_lambda_authorizers():
    model = RuntimeModel.from_stacks([authz_stack()], repo_root=FIXTURE_APP)
    token, nocache, request = (model.authorizers[i] for i in (TOKEN_ID, NOCACHE_ID, REQUEST_ID))
    assert (token.type, token.function, token.header, token.ttl_s, token.validation_expression) == (
        "TOKEN", "TokenFn", "Authorization", 300, None)
    assert token.function_arn.endswith(":function:dev-t-TokenFn")
    assert (nocache.header, nocache.ttl_s, nocache.validation_expression) == ("X-Token", 0, "^[a-z-]+$")
    assert (request.type, request.identity_sources, request.ttl_s) == (
        "REQUEST", ("method.request.header.X-Key", "method.request.querystring.q"), 0)
    assert any("names no known function" in w for w in model.warnings)


def test_a_registered_plugin_serves_its_type_and_an_unregistered_type_is_a_500():
    class Fake:
        def __init__(self, deps: AuthorizerDeps) -> None:
            self.deps = deps

        def authorize(self, request, route, call):
            return AuthResult(identity={"caller": "fake"})

    authorizers = Authorizers(AuthorizerDeps(model=None, workers=None, region="us-east-1", log=print))  # type: ignore[arg-type]
    route = RouteSpec(**{**ROUTE.__dict__, "authorization": "TEST_ONLY"})
    with pytest.raises(AuthFailure) as refused:
        authorizers.authorize(HttpRequest("GET", "/pets/1"), route, call())
    assert (refused.value.status, refused.value.message) == (500, None)
    assert "TEST_ONLY" in refused.value.reason and not authorizers.supports("TEST_ONLY")
    registry.register("TEST_ONLY")(Fake)
    try:
        assert authorizers.supports("TEST_ONLY")
        assert authorizers.authorize(HttpRequest("GET", "/pets/1"), route, call()).identity == {"caller": "fake"}
        assert isinstance(authorizers.plugin("TEST_ONLY"), Fake)
    finally:
        registry._REGISTRY.pop("TEST_ONLY")
    assert {"COGNITO_USER_POOLS", "CUSTOM", "NONE"} <= set(registry.registered())


def test_a_plugin_runs_off_the_loop_until_its_built_instance_says_it_no_longer_waits():
    class Warming:
        def __init__(self, deps: AuthorizerDeps) -> None:
            self.read = False

        @property
        def blocks(self) -> bool:  # waits on I/O until its first read
            return not self.read

        def authorize(self, request, route, call):
            self.read = True
            return AuthResult()

    authorizers = Authorizers(AuthorizerDeps(model=None, workers=None, region="us-east-1", log=print))  # type: ignore[arg-type]
    route = RouteSpec(**{**ROUTE.__dict__, "authorization": "TEST_WARMING"})
    registry.register("TEST_WARMING")(Warming)
    try:
        assert authorizers.blocks("TEST_WARMING")  # not built yet: the class's property is not a bool
        authorizers.authorize(HttpRequest("GET", "/pets/1"), route, call())
        assert not authorizers.blocks("TEST_WARMING")
    finally:
        registry._REGISTRY.pop("TEST_WARMING")
    assert authorizers.blocks("AWS_IAM") and authorizers.blocks("CUSTOM") and not authorizers.blocks("NONE")


@pytest.mark.parametrize(("payload", "why"), [
    (None, "must be an object"),
    ({"policyDocument": ALLOW}, "principalId"),
    ({"principalId": 7, "policyDocument": ALLOW}, "principalId"),
    ({"principalId": "u"}, "policyDocument"),
    ({"principalId": "u", "policyDocument": {"Statement": []}}, "non-empty"),
    ({"principalId": "u", "policyDocument": {"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]}},
     "Effect"),
    ({"principalId": "u", "policyDocument": {"Statement": [{"Effect": "Allow", "Resource": "*"}]}}, "Action"),
    ({"principalId": "u", "policyDocument": {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": 3}]}},
     "Resource"),
    ({"principalId": "u", "policyDocument": ALLOW, "context": {"a": [1]}}, "context"),
    ({"principalId": "u", "policyDocument": ALLOW, "context": "x"}, "context"),
])
def test_malformed_outputs(payload, why):
    with pytest.raises(MalformedOutput, match=why):
        parse_output(payload)


def test_a_single_statement_object_is_accepted():
    output = parse_output({"principalId": "u", "policyDocument": {"Statement": ALLOW["Statement"][0]},
                           "context": {"n": 1, "none": None}})
    assert output.policy["Statement"] == ALLOW["Statement"] and output.context == {"n": 1, "none": None}


def test_identity_sources_of_every_kind():
    spec = AuthorizerSpec("a1", "req", (), "", type="REQUEST", function="F", identity_sources=(
        "method.request.header.x-key", "method.request.querystring.q", "stageVariables.tenant", "context.httpMethod"))
    request = HttpRequest("GET", "/pets/1", query=[("q", "1"), ("q", "2")], headers=[("X-Key", "k")])
    assert identity_values(spec, request, call(spec)) == ("k", "2", "t1", "GET")
    for missing in (HttpRequest("GET", "/pets/1", query=[("q", "1")]),
                    HttpRequest("GET", "/pets/1", query=[("Q", "1")], headers=[("X-Key", "k")])):
        with pytest.raises(AuthFailure) as refused:
            identity_values(spec, missing, call(spec))
        assert (refused.value.status, refused.value.message) == (401, "Unauthorized")
    odd = AuthorizerSpec("a1", "req", (), "", type="REQUEST", identity_sources=("method.request.body.x",))
    with pytest.raises(AuthFailure) as refused:
        identity_values(odd, request, call(odd))
    assert refused.value.status == 500


def test_proxy_event_takes_the_plugin_result():
    event = proxy_event(HttpRequest("GET", "/pets/1", headers=[("User-Agent", "t/1")]), route=ROUTE,
                        path_parameters={"id": "1"}, api=API, request_id="rid",
                        authorizer={"principalId": "u", "k": "v"},
                        identity={"cognitoIdentityId": "us-east-1:abc", "caller": "AROA:x"})
    context = event["requestContext"]
    assert context["authorizer"] == {"principalId": "u", "k": "v"}
    identity = context["identity"]
    assert (identity["cognitoIdentityId"], identity["caller"], identity["userAgent"]) == ("us-east-1:abc", "AROA:x", "t/1")
    assert identity["sourceIp"] == "127.0.0.1" and identity["userArn"] is None
    open_event = proxy_event(HttpRequest("GET", "/pets/1"), route=ROUTE, path_parameters={}, api=API)
    assert "authorizer" not in open_event["requestContext"]
