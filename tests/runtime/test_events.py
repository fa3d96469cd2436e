import base64

from stagewise.runtime.events import ApiContext, HttpRequest, claims_as_strings, proxy_event
from stagewise.runtime.model import RouteSpec

ROUTE = RouteSpec(api_id="api1", path="/notes/{id}", method="GET", resource_id="res1", function="F",
                  integration_type="AWS_PROXY", authorization="COGNITO_USER_POOLS")
API = ApiContext(account_id="123456789012", api_id="api1", stage="dev", region="us-east-1")


def build(request: HttpRequest, claims=None) -> dict:
    return proxy_event(request, route=ROUTE, path_parameters={"id": "7"}, api=API, claims=claims, request_id="rid")


def test_top_level_shape_matches_api_gateway_v1():
    request = HttpRequest("GET", "/notes/7", query=[("a", "1"), ("a", "2"), ("b", "")],
                          headers=[("Host", "x"), ("X-Multi", "1"), ("X-Multi", "2"), ("User-Agent", "t/1")])
    event = build(request)
    assert set(event) == {"resource", "path", "httpMethod", "headers", "multiValueHeaders",
                          "queryStringParameters", "multiValueQueryStringParameters", "pathParameters",
                          "stageVariables", "requestContext", "body", "isBase64Encoded"}
    assert (event["resource"], event["path"], event["httpMethod"]) == ("/notes/{id}", "/notes/7", "GET")
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["headers"]["X-Multi"] == "2"
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["pathParameters"] == {"id": "7"}
    assert event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_request_context():
    event = build(HttpRequest("GET", "/notes/7", headers=[("User-Agent", "t/1")], source_ip="10.0.0.9"))
    ctx = event["requestContext"]
    assert ctx["accountId"] == "123456789012" and ctx["apiId"] == "api1"
    assert (ctx["resourceId"], ctx["resourcePath"], ctx["httpMethod"]) == ("res1", "/notes/{id}", "GET")
    assert (ctx["path"], ctx["stage"], ctx["requestId"], ctx["protocol"]) == ("/dev/notes/7", "dev", "rid", "HTTP/1.1")
    assert isinstance(ctx["requestTimeEpoch"], int)
    assert ctx["identity"]["sourceIp"] == "10.0.0.9" and ctx["identity"]["userAgent"] == "t/1"
    assert ctx["domainName"] == "api1.execute-api.us-east-1.amazonaws.com"
    assert "authorizer" not in ctx


def test_empty_query_is_null_and_gateway_headers_are_added():
    event = build(HttpRequest("GET", "/notes/7", source_ip="10.1.2.3"))
    assert event["queryStringParameters"] is None and event["multiValueQueryStringParameters"] is None
    assert event["headers"]["X-Forwarded-For"] == "10.1.2.3"
    assert event["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert event["multiValueHeaders"]["X-Forwarded-Proto"] == ["http"]


def test_client_trace_header_is_kept():
    event = build(HttpRequest("GET", "/notes/7", headers=[("x-amzn-trace-id", "Root=1-a-b")]))
    assert event["headers"]["x-amzn-trace-id"] == "Root=1-a-b"
    assert "X-Amzn-Trace-Id" not in event["headers"]


def test_claims_are_strings():
    event = build(HttpRequest("GET", "/notes/7"), claims={"sub": "u1", "exp": 0, "email_verified": True,
                                                          "cognito:groups": ["a", "b"], "auth_time": 5})
    assert event["requestContext"]["authorizer"]["claims"] == {
        "sub": "u1", "exp": "Thu Jan 01 00:00:00 UTC 1970", "email_verified": "true",
        "cognito:groups": "a,b", "auth_time": "5"}
    assert claims_as_strings({"iat": 86400})["iat"] == "Fri Jan 02 00:00:00 UTC 1970"


def test_bodies_text_and_binary():
    text = build(HttpRequest("POST", "/notes/7", headers=[("Content-Type", "application/json")], body=b'{"a":1}'))
    assert (text["body"], text["isBase64Encoded"]) == ('{"a":1}', False)
    binary = build(HttpRequest("POST", "/notes/7", headers=[("Content-Type", "image/png")], body=b"\x89PNG\xff"))
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x89PNG\xff"
