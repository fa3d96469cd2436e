"""libs.errors and libs.resolver: one exception → response mapping for every API service."""

from __future__ import annotations

import json
import logging

from aws_lambda_powertools.event_handler.exceptions import BadRequestError, NotFoundError
from pydantic import BaseModel, ConfigDict, Field

from libs.errors import describe_validation_errors
from libs.resolver import api_resolver

from .conftest import context, rest_event


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=3)


def _app():
    logger = logging.getLogger("libs-errors-test")
    app = api_resolver(title="t", version="0", description="d", logger=logger)

    @app.post("/things")
    def create(thing: Thing) -> dict:
        return {"name": thing.name}

    @app.get("/missing")
    def missing() -> dict:
        raise NotFoundError("thing not found")

    @app.get("/bad")
    def bad() -> dict:
        raise BadRequestError("cursor: invalid")

    @app.get("/crash")
    def crash() -> dict:
        raise RuntimeError("db password is hunter2")

    return app


def _resolve(app, method: str, path: str, *, body: str | None = None) -> tuple[int, dict]:
    reply = app.resolve(rest_event(method, path, body=body), context())
    return int(reply["statusCode"]), json.loads(reply["body"])


def test_validation_error_is_400_naming_each_field():
    # GIVEN a body with a too-long field and an unknown one WHEN posted
    status, body = _resolve(_app(), "POST", "/things", body=json.dumps({"name": "abcd", "extra": 1}))
    # THEN 400, the message names both fields, the errors list them
    assert status == 400
    assert (
        body["message"]
        == "name: String should have at most 3 characters; extra: Extra inputs are not permitted"
    )
    assert [error["field"] for error in body["errors"]] == ["name", "extra"]


def test_malformed_json_is_400():
    status, body = _resolve(_app(), "POST", "/things", body='{"name": ')
    assert (status, body["message"]) == (400, "body: malformed JSON")


def test_service_errors_keep_status_and_message():
    app = _app()
    assert _resolve(app, "GET", "/missing") == (404, {"message": "thing not found"})
    assert _resolve(app, "GET", "/bad") == (400, {"message": "cursor: invalid"})


def test_unexpected_exception_is_500_with_request_id_and_no_text(caplog):
    # GIVEN a route that raises with a secret in the message WHEN called
    with caplog.at_level(logging.ERROR, logger="libs-errors-test"):
        status, body = _resolve(_app(), "GET", "/crash")
    # THEN 500 with only the message and the request id; the log has the exception and the id
    assert status == 500
    assert body == {"message": "internal error", "requestId": "lambda-request-42"}
    record = caplog.records[-1]
    assert record.exc_info and record.requestId == "lambda-request-42"


def test_describe_validation_errors_shapes():
    errors = [
        {"loc": ("body", "content"), "msg": "Field required", "type": "missing"},
        {"loc": ("query", "limit"), "msg": "Input should be a valid integer", "type": "int_parsing"},
        {"loc": ("body",), "msg": "Input should be a valid dictionary", "type": "model_attributes_type"},
        {"loc": ("body", 7), "msg": "JSON decode error", "type": "json_invalid"},
        {"loc": ("body", "tags", 0), "msg": "bad", "type": "x"},
    ]
    assert describe_validation_errors(errors) == [
        {"field": "content", "message": "Field required"},
        {"field": "limit", "message": "Input should be a valid integer"},
        {"field": "body", "message": "Input should be a valid dictionary"},
        {"field": "body", "message": "malformed JSON"},
        {"field": "tags.0", "message": "bad"},
    ]


def test_openapi_has_sigv4_and_400_not_422():
    schema = json.loads(_app().get_openapi_json_schema())
    scheme = schema["components"]["securitySchemes"]["sigv4"]
    assert (scheme["type"], scheme["x-amazon-apigateway-authtype"]) == ("apiKey", "awsSigv4")
    assert schema["security"] == [{"sigv4": []}]
    assert "422" not in schema["paths"]["/things"]["post"]["responses"]
