import json

import pytest

from stagewise.runtime.responses import MalformedResponse, from_proxy, gateway_error


def test_valid_proxy_response_merges_header_maps():
    response = from_proxy({"statusCode": 201, "headers": {"X-A": "1", "set-cookie": "lost"},
                           "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]}, "body": "hi"}, request_id="r")
    assert response.status == 201 and response.body == b"hi"
    assert ("X-A", "1") in response.headers
    assert [v for k, v in response.headers if k.lower() == "set-cookie"] == ["a=1", "b=2"]
    assert response.header("content-type") == "application/json"
    assert response.header("x-amzn-RequestId") == "r"


def test_base64_body_is_decoded():
    response = from_proxy({"statusCode": 200, "body": "AAE=", "isBase64Encoded": True}, request_id="r")
    assert response.body == b"\x00\x01"


@pytest.mark.parametrize("payload", [
    None, [], "text", {"statusCode": "200"}, {"statusCode": True}, {"statusCode": 200, "body": {"a": 1}},
    {"statusCode": 200, "headers": []}, {"statusCode": 200, "headers": {"a": {"b": 1}}},
    {"statusCode": 200, "extra": 1}, {"statusCode": 200, "isBase64Encoded": "yes"},
    {"statusCode": 200, "body": "***", "isBase64Encoded": True}, {"statusCode": 99},
])
def test_malformed_responses_are_refused(payload):
    with pytest.raises(MalformedResponse):
        from_proxy(payload, request_id="r")


def test_gateway_error_body():
    response = gateway_error(401, "Unauthorized", error_type="UnauthorizedException", request_id="r")
    assert json.loads(response.body) == {"message": "Unauthorized"}
    assert response.header("x-amzn-ErrorType") == "UnauthorizedException"
