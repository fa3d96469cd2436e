"""GET /hello and GET /items/{id}: Lambda proxy answers, no AWS call."""

import json

_HEADERS = {"Content-Type": "application/json"}


def hello(event, context):
    return {"statusCode": 200, "headers": _HEADERS, "body": json.dumps({"message": "hello"})}


def item(event, context):
    return {"statusCode": 200, "headers": _HEADERS, "body": json.dumps({"id": event["pathParameters"]["id"]})}
