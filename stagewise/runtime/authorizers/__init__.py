"""Authorizer plug-ins of the local API Gateway, one per `AuthorizationType` (see `base.py`).

Each module below registers its plug-in with `@register("<AuthorizationType>")` when imported.
A type with no plug-in is refused (500 `{"message": null}` and one line on the console), never
served. Adding one is one module + its name on the import line below.
"""

from stagewise.runtime.authorizers import cognito, custom, iam, none  # noqa: F401  (each registers its plug-in)
from stagewise.runtime.authorizers.base import (
    AuthCall,
    AuthFailure,
    Authorizer,
    AuthorizerDeps,
    Authorizers,
    AuthResult,
    configuration_error,
    method_arn,
    register,
    registered,
)

__all__ = ["AuthCall", "AuthFailure", "AuthResult", "Authorizer", "AuthorizerDeps", "Authorizers",
           "configuration_error", "method_arn", "register", "registered"]
