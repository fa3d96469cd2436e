"""Exception → HTTP response mapping shared by every API service.

Data flow: `install_error_handlers(app, logger)` registers handlers on a Powertools resolver.
A route raises; the resolver looks the exception's class up (most specific first) and the
handler turns it into `{"message": ...}` with the right status:

    RequestValidationError (bad field, bad query, malformed JSON)  → 400, message names the field
    RequestUnsupportedContentType                                  → 415
    ServiceError family (NotFoundError("note not found"), ...)    → its status, {"message": msg}
    any other exception                                            → 500 {"message": "internal error",
                                                                     "requestId": <aws_request_id>}

The 500 body never carries exception text or a trace; the exception is logged with the request id.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Response
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

INTERNAL_ERROR = "internal error"
_LOCATIONS = {"body", "query", "path", "header", "cookie"}


def json_error(status: int, message: str, **extra: Any) -> Response:
    """A JSON error response `{"message": message, **extra}`."""
    return Response(
        status_code=int(status),
        content_type=content_types.APPLICATION_JSON,
        body={"message": message, **extra},
    )


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Each pydantic / Powertools error as `{"field": "content", "message": "String should ..."}`.

    Only the schema's own message is kept (never the rejected input), as Powertools does.
    """
    return [{"field": _field_name(error), "message": _message(error)} for error in errors]


def install_error_handlers(app: ApiGatewayResolver, logger: Any) -> None:
    """Register the mapping above on `app`; `logger` receives every unexpected exception."""

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response:
        described = describe_validation_errors(exc.errors())
        message = "; ".join(f"{item['field']}: {item['message']}" for item in described)
        return json_error(HTTPStatus.BAD_REQUEST, message or "invalid request", errors=described)

    @app.exception_handler(RequestUnsupportedContentType)
    def _unsupported(exc: RequestUnsupportedContentType) -> Response:
        return json_error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "body: send application/json")

    @app.exception_handler(ServiceError)
    def _service(exc: ServiceError) -> Response:
        message = (
            exc.msg if isinstance(exc.msg, str) and exc.msg else HTTPStatus(exc.status_code).phrase.lower()
        )
        return json_error(exc.status_code, message)

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response:
        request_id = _request_id(app)
        logger.exception("unhandled error", extra={"requestId": request_id})
        return json_error(HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL_ERROR, requestId=request_id)


def _request_id(app: ApiGatewayResolver) -> str:
    context = getattr(app, "lambda_context", None)
    return str(getattr(context, "aws_request_id", None) or "unknown")


def _field_name(error: Mapping[str, Any]) -> str:
    parts = list(error.get("loc", ()))
    if error.get("type") == "json_invalid" or not parts:
        return "body"
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(str(part) for part in parts)


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "json_invalid":
        return "malformed JSON"
    return str(error.get("msg") or error.get("type") or "invalid value")
