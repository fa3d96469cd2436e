"""notes-api failure answers (500 with a request id, unknown routes) and the generated OpenAPI document."""

from __future__ import annotations

import json
import logging

import pytest
from notes_api import api
from notes_api.api import app
from notes_api_fixtures import TABLE


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def log_records():
    """Log records of the handler's logger (Powertools logs through the std logger named after the service)."""
    handler = _Records()
    std_logger = logging.getLogger(api.logger.name)
    std_logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        std_logger.removeHandler(handler)


def test_unexpected_failure_is_500_with_request_id_only(call, aws, log_records):
    # GIVEN the table vanished (DynamoDB answers ResourceNotFoundException)
    aws.delete_table(TableName=TABLE)
    # WHEN a note is created
    reply = call("POST", "/notes", body={"content": "x"})
    # THEN 500 with exactly the message and the Lambda request id: no exception text, no trace
    assert reply.status == 500
    assert reply.body == {"message": "internal error", "requestId": reply.request_id}
    assert "ResourceNotFound" not in reply.raw["body"] and "Traceback" not in reply.raw["body"]
    # AND the exception is logged with the request id
    failures = [record for record in log_records if record.exc_info]
    assert failures, "the exception was not logged"
    assert getattr(failures[-1], "requestId", None) == reply.request_id


def test_unknown_route_is_404_json(call):
    # GIVEN a path the API does not serve WHEN it reaches the handler THEN a JSON 404
    reply = call("GET", "/nothing-here")
    assert reply.status == 404
    assert reply.body == {"message": "Not found"}


def test_openapi_document_is_generated_from_the_models():
    # WHEN the OpenAPI document is generated
    schema = json.loads(app.get_openapi_json_schema())
    # THEN it has a title/version, the SigV4 (AWS_IAM) scheme required globally, every route, and the models
    assert schema["info"]["title"] == "notes-api" and schema["info"]["version"] == "1.0.0"
    assert schema["security"] == [{"sigv4": []}]
    scheme = schema["components"]["securitySchemes"]["sigv4"]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"
    assert scheme["in"] == "header" and scheme["name"] == "Authorization"
    assert set(schema["paths"]) == {"/notes", "/notes/{id}", "/attachments"}
    assert set(schema["paths"]["/notes"]) == {"get", "post"}
    assert set(schema["paths"]["/notes/{id}"]) == {"get", "put", "delete"}
    note_in = schema["components"]["schemas"]["NoteIn"]
    assert note_in["properties"]["content"]["maxLength"] == 10_000
    assert note_in["additionalProperties"] is False
    post = schema["paths"]["/notes"]["post"]["responses"]
    # AND validation errors are documented as the 400 the API answers, not Powertools' default 422
    assert "201" in post and "400" in post and "422" not in post
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_every_operation_requires_the_sigv4_scheme_itself():
    # GIVEN the document WHEN the global requirement is dropped (the local runtime merges documents)
    # THEN each operation still says it needs a signed request
    schema = json.loads(app.get_openapi_json_schema())
    operations = [op for item in schema["paths"].values() for op in item.values()]
    assert len(operations) == 6
    assert all(op["security"] == [{"sigv4": []}] for op in operations)


def test_missing_setting_is_500_and_the_log_names_the_variable(call, monkeypatch, log_records):
    # GIVEN a function deployed without TABLE_NAME (settings not read yet in this container)
    from libs import settings

    monkeypatch.delenv("TABLE_NAME")
    settings.load.cache_clear()
    # WHEN it serves a request
    reply = call("GET", "/notes")
    # THEN the caller gets the plain 500, and the log says which variable is missing
    assert reply.status == 500
    assert reply.body == {"message": "internal error", "requestId": reply.request_id}
    logged = [str(record.exc_info[1]) for record in log_records if record.exc_info]
    assert any("TABLE_NAME" in text for text in logged)


def test_every_operation_lists_every_status_it_can_answer_with_the_error_schema():
    # GIVEN the document THEN each operation lists the statuses a fuzzer may see, each error with its schema
    schema = json.loads(app.get_openapi_json_schema())
    common = {"400", "401", "403", "413", "414", "415", "429", "500"}
    expected = {
        ("/notes", "post"): {"201"} | common,
        ("/notes", "get"): {"200"} | common,
        ("/notes/{id}", "get"): {"200", "404"} | common,
        ("/notes/{id}", "put"): {"200", "404"} | common,
        ("/notes/{id}", "delete"): {"204", "404"} | common,
        ("/attachments", "post"): {"201"} | common,
    }
    for (path, method), statuses in expected.items():
        responses = schema["paths"][path][method]["responses"]
        assert set(responses) == statuses, (path, method)
        for status in statuses - {"200", "201", "204"}:
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[1] == ("GatewayError" if status in {"403", "414", "429"} else "ApiError")
    api_error = schema["components"]["schemas"]["ApiError"]
    assert api_error["required"] == ["message"]
    assert set(api_error["properties"]) == {"message", "errors", "requestId"}
    assert "ErrorOut" not in schema["components"]["schemas"]
