"""The REST resolver every API service uses: Powertools' APIGatewayRestResolver, validation on, errors as 400.

Data flow: `api_resolver(title=..., version=...)` builds the resolver with validation enabled,
the SigV4 security scheme (the methods use AWS_IAM authorization), CORS and `libs.errors` handlers
installed. Because `libs.errors` answers
validation errors with 400 (not Powertools' 422), the generated OpenAPI document drops the 422
response Powertools adds to every operation, so the document says what the API really does.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from pydantic import BaseModel, Field

from libs.bodies import MAX_DEPTH, MAX_NUMBER_CHARS
from libs.cors import cors_origin
from libs.errors import install_error_handlers

SIGV4_SCHEME = "sigv4"
# What a browser sends on a signed request (the seed's web client: aws-amplify's signer).
SIGNED_REQUEST_HEADERS = ("Authorization", "Content-Type", "X-Amz-Date", "X-Amz-Security-Token")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_UNUSED = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def _absent(value: Any) -> bool:
    return value is None


class FieldProblem(BaseModel):
    """One problem of a 400: the field at fault (`body` for the body as a whole) and what is wrong."""

    field: str
    message: str


class ApiError(BaseModel):
    """Every error the functions answer: a message naming the field or the problem."""

    message: str = Field(description="`<field>: <what is wrong>` for a 400; several joined with `; `.")
    errors: list[FieldProblem] | None = Field(default=None, exclude_if=_absent, description="Each problem of a 400.")
    requestId: str | None = Field(
        default=None, exclude_if=_absent, description="On a 500: the Lambda request id to find the log line."
    )


class GatewayError(BaseModel):
    """An error API Gateway answers itself (the function never ran): `message`, or `Message` for
    an IAM policy that does not allow the call."""

    message: str | None = Field(default=None, exclude_if=_absent)
    Message: str | None = Field(default=None, exclude_if=_absent)


# What each status means, the same for every operation that can answer it.
ERROR_DESCRIPTIONS: dict[int, tuple[str, type[BaseModel]]] = {
    400: (
        "The body, a query or a path parameter is invalid: a body must be a UTF-8 JSON object (no BOM, "
        f"nesting at most {MAX_DEPTH} deep, numbers of at most {MAX_NUMBER_CHARS} characters, no duplicate "
        "keys) that matches the request schema; `message` names the field or the problem.",
        ApiError,
    ),
    401: ("No authenticated Cognito identity reached the function (defence in depth behind AWS_IAM).", ApiError),
    403: (
        "API Gateway refused the call (AWS_IAM): unsigned (`Missing Authentication Token`), a bad or "
        "expired signature, or credentials whose policies do not allow execute-api:Invoke here.",
        GatewayError,
    ),
    404: ("Not found (also: another user's, or a malformed id).", ApiError),
    409: ("A request with the same Idempotency-Key is still in progress; retry shortly.", ApiError),
    413: ("The body is larger than the function accepts (API Gateway's own limit is 10 MB).", ApiError),
    414: ("API Gateway refused a request line (path and query) longer than it accepts.", GatewayError),
    415: ("A Content-Type other than application/json (any letter case; charset, if given, utf-8).", ApiError),
    429: ("API Gateway throttled the request (the stage's or account's rate).", GatewayError),
    500: ("Unexpected failure: `requestId` finds the log line; nothing else is said.", ApiError),
}
# What any signed request may be answered, whatever the operation.
COMMON_ERRORS = (400, 401, 403, 413, 414, 415, 429, 500)


def error_responses(*statuses: int) -> dict[int, dict[str, Any]]:
    """Powertools `responses=` entries for these error statuses, each with its error schema."""
    entries: dict[int, dict[str, Any]] = {}
    for status in statuses:
        description, model = ERROR_DESCRIPTIONS.get(status, (HTTPStatus(status).phrase, ApiError))
        entries[status] = {"description": description, "content": {"application/json": {"model": model}}}
    return entries


class RestResolver(APIGatewayRestResolver):
    """APIGatewayRestResolver whose OpenAPI document lists 400 (not Powertools' 422) for validation errors."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        for item in (schema.paths or {}).values():
            for method in _METHODS:
                operation = getattr(item, method, None)
                if operation is not None and operation.responses and _is_powertools_422(operation.responses.get(422)):
                    operation.responses.pop(422)
        schemas = (schema.components.schemas if schema.components else None) or {}
        for name in _UNUSED:
            schemas.pop(name, None)
        return schema


def _is_powertools_422(response: Any) -> bool:
    """Powertools' own 422 (validation errors, which this API answers with 400), not a route's own 422."""
    content = getattr(response, "content", None) or {}
    schema = getattr(content.get("application/json"), "schema_", None)
    return getattr(schema, "ref", None) == "#/components/schemas/HTTPValidationError"


def sigv4_scheme() -> APIKey:
    """The security scheme of AWS_IAM methods, as API Gateway writes it: a SigV4 `Authorization` header."""
    return APIKey(
        name="Authorization",
        in_=APIKeyIn.header,
        description=(
            "AWS Signature Version 4 (service execute-api) with a Cognito identity's credentials from "
            "the identity pool (API Gateway AWS_IAM authorization); send X-Amz-Date and "
            "X-Amz-Security-Token as signed."
        ),
        **{"x-amazon-apigateway-authtype": "awsSigv4"},
    )


class StageCors(CORSConfig):
    """Powertools' CORS with the stage's one origin, read when a request is answered (the function's
    environment is the stack's; read at import, it would be whatever environment imported it first)."""

    def __init__(self, *, fixed: str | None, **options: Any) -> None:
        self._fixed = fixed
        super().__init__(allow_origin=fixed or "https://localhost.invalid", **options)

    @property
    def _allowed_origins(self) -> list[str]:  # type: ignore[override]
        return [self._fixed or cors_origin()]

    @_allowed_origins.setter
    def _allowed_origins(self, value: list[str]) -> None:
        """Set by CORSConfig.__init__; the origin is always the property's."""


def api_resolver(
    *, title: str, version: str, description: str, logger: Any, allow_origin: str | None = None
) -> RestResolver:
    """A validating resolver with the SigV4 scheme required on every route and the shared error mapping.

    CORS headers go on responses to the one origin the stage allows (`CORS_ORIGIN`, set by the stack:
    the stage's web app, else the API's own origin), never `*` nor an echo of any page's origin.
    """
    cors = StageCors(fixed=allow_origin, allow_headers=list(SIGNED_REQUEST_HEADERS), max_age=600)
    app = RestResolver(enable_validation=True, cors=cors)
    app.configure_openapi(
        title=title,
        version=version,
        description=description,
        security_schemes={SIGV4_SCHEME: sigv4_scheme()},
        security=[{SIGV4_SCHEME: []}],
    )
    install_error_handlers(app, logger)
    return app
