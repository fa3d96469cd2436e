"""The REST resolver every API service uses: Powertools' APIGatewayRestResolver, validation on, errors as 400.

Data flow: `api_resolver(title=..., version=...)` builds the resolver with validation enabled,
the SigV4 security scheme (the methods use AWS_IAM authorization), CORS and `libs.errors` handlers
installed. Because `libs.errors` answers
validation errors with 400 (not Powertools' 422), the generated OpenAPI document drops the 422
response Powertools adds to every operation, so the document says what the API really does.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

from libs.errors import install_error_handlers

SIGV4_SCHEME = "sigv4"
# What a browser sends on a signed request (the seed's web client: aws-amplify's signer).
SIGNED_REQUEST_HEADERS = ("Authorization", "Content-Type", "X-Amz-Date", "X-Amz-Security-Token")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_UNUSED = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


class RestResolver(APIGatewayRestResolver):
    """APIGatewayRestResolver whose OpenAPI document lists 400 (not 422) for validation errors."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        for item in (schema.paths or {}).values():
            for method in _METHODS:
                operation = getattr(item, method, None)
                if operation is not None and operation.responses:
                    operation.responses.pop(422, None)
        schemas = (schema.components.schemas if schema.components else None) or {}
        for name in _UNUSED:
            schemas.pop(name, None)
        return schema


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


def api_resolver(
    *, title: str, version: str, description: str, logger: Any, allow_origin: str = "*"
) -> RestResolver:
    """A validating resolver with the SigV4 scheme required on every route and the shared error mapping.

    CORS headers go on every response to a request that sends `Origin` (signatures travel in
    headers, never cookies, so `*` is safe as the default).
    """
    cors = CORSConfig(allow_origin=allow_origin, allow_headers=list(SIGNED_REQUEST_HEADERS), max_age=600)
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
