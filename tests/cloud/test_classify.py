"""Which requests are journaled: reads are not, writes and anything unrecognised are."""

from __future__ import annotations

import pytest

from stagewise.cloud.classify import is_mutating

FORM = "application/x-www-form-urlencoded"


def json_request(target: str) -> dict:
    return {"REQUEST_METHOD": "POST", "HTTP_X_AMZ_TARGET": target, "CONTENT_TYPE": "application/x-amz-json-1.0"}


@pytest.mark.parametrize(
    "target",
    ["DynamoDB_20120810.GetItem", "DynamoDB_20120810.Query", "DynamoDB_20120810.Scan",
     "DynamoDB_20120810.BatchGetItem", "AmazonSSM.GetParameter", "AmazonSQS.ListQueues",
     "AWSCognitoIdentityProviderService.DescribeUserPool"],
)
def test_json_reads_are_not_journaled(target: str) -> None:
    assert not is_mutating(json_request(target), b"{}")


@pytest.mark.parametrize(
    "target",
    ["DynamoDB_20120810.PutItem", "AmazonSQS.ReceiveMessage", "AWSCognitoIdentityProviderService.InitiateAuth",
     "AWSCognitoIdentityService.GetId", "AWSCognitoIdentityService.GetCredentialsForIdentity"],
)
def test_json_writes_and_reads_that_record_are_journaled(target: str) -> None:
    assert is_mutating(json_request(target), b"{}")


def test_query_protocol_action_in_form_body() -> None:
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": FORM}
    assert is_mutating(environ, b"Action=Publish&TopicArn=x")
    assert not is_mutating(environ, b"Action=ListTopics&Version=2010-03-31")
    assert is_mutating(environ, b"Action=GetSessionToken")


def test_rest_protocol_by_method() -> None:
    assert not is_mutating({"REQUEST_METHOD": "GET", "PATH_INFO": "/bucket/key"}, b"")
    assert not is_mutating({"REQUEST_METHOD": "HEAD", "PATH_INFO": "/bucket/key"}, b"")
    assert is_mutating({"REQUEST_METHOD": "PUT", "PATH_INFO": "/bucket/key"}, b"data")
    assert is_mutating({"REQUEST_METHOD": "DELETE", "PATH_INFO": "/bucket/key"}, b"")
    assert is_mutating({"REQUEST_METHOD": "POST", "PATH_INFO": "/moto-api/reset"}, b"")
