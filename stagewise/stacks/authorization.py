"""Who may call a route: the authorization kinds the route helpers of `stagewise.stacks.api` take.

Data flow: a stack picks one value per route and passes it as `authorization=` to `add_route` /
`add_method`; `method_properties()` renders the Method's part of it, as CloudFormation wants:

    Public()                        AuthorizationType NONE
    Cognito(authorizer, scopes=())  COGNITO_USER_POOLS, AuthorizerId (+ AuthorizationScopes: an access
                                    token with one of these OAuth scopes; none: an ID token)
    Iam()                           AWS_IAM (SigV4-signed callers whose IAM policies allow execute-api:Invoke)
    Custom(authorizer)              CUSTOM, AuthorizerId of a Lambda (TOKEN or REQUEST) authorizer,
                                    e.g. one `add_lambda_authorizer` declares

`authorizer` is the `apigateway.Authorizer` of this template, or an imported id
(`ctx.import_value(owner, "AuthorizerId")`). Values are frozen and compare by value.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from troposphere import AWSHelperFn, AWSObject, Ref, apigateway

AuthorizerRef = apigateway.Authorizer | AWSHelperFn  # owned here, or imported (Fn::ImportValue)


def _authorizer_id(authorizer: AuthorizerRef) -> AWSHelperFn:
    return Ref(authorizer) if isinstance(authorizer, AWSObject) else authorizer


def _check_authorizer(kind: str, authorizer: object, allowed: set[str]) -> None:
    if not isinstance(authorizer, apigateway.Authorizer | AWSHelperFn):
        raise TypeError(f"{kind}(authorizer): an apigateway.Authorizer or an imported id, not {authorizer!r}")
    declared = authorizer.properties.get("Type") if isinstance(authorizer, apigateway.Authorizer) else None
    if isinstance(declared, str) and declared not in allowed:
        raise ValueError(f"{kind}({authorizer.title}): its Type is {declared}, expected {' or '.join(sorted(allowed))}")


@dataclass(frozen=True)
class Public:
    """Anyone may call: `AuthorizationType: NONE`."""

    authorization_type: ClassVar[str] = "NONE"

    def method_properties(self) -> dict[str, Any]:
        return {"AuthorizationType": self.authorization_type}


@dataclass(frozen=True)
class Cognito:
    """Callers with a token of the authorizer's user pool(s); `scopes`: the access token must hold one."""

    authorizer: AuthorizerRef
    scopes: tuple[str, ...] = field(default=())

    authorization_type: ClassVar[str] = "COGNITO_USER_POOLS"

    def __post_init__(self) -> None:
        _check_authorizer("Cognito", self.authorizer, {"COGNITO_USER_POOLS"})
        scopes = (self.scopes,) if isinstance(self.scopes, str) else tuple(self.scopes)
        if not all(isinstance(scope, str) and scope and scope.strip() == scope for scope in scopes):
            raise ValueError(f"Cognito scopes are non-empty names like 'notes/read', not {self.scopes!r}")
        object.__setattr__(self, "scopes", scopes)

    def method_properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "AuthorizationType": self.authorization_type,
            "AuthorizerId": _authorizer_id(self.authorizer),
        }
        if self.scopes:
            props["AuthorizationScopes"] = list(self.scopes)
        return props


@dataclass(frozen=True)
class Iam:
    """SigV4-signed callers whose IAM policies allow `execute-api:Invoke` on the method: `AWS_IAM`."""

    authorization_type: ClassVar[str] = "AWS_IAM"

    def method_properties(self) -> dict[str, Any]:
        return {"AuthorizationType": self.authorization_type}


@dataclass(frozen=True)
class Custom:
    """Callers a Lambda authorizer (TOKEN or REQUEST) allows: `CUSTOM` with its `AuthorizerId`."""

    authorizer: AuthorizerRef

    authorization_type: ClassVar[str] = "CUSTOM"

    def __post_init__(self) -> None:
        _check_authorizer("Custom", self.authorizer, {"TOKEN", "REQUEST"})

    def method_properties(self) -> dict[str, Any]:
        return {"AuthorizationType": self.authorization_type, "AuthorizerId": _authorizer_id(self.authorizer)}


Authorization = Public | Cognito | Iam | Custom
KINDS = (Public, Cognito, Iam, Custom)


def method_properties(authorization: Authorization) -> dict[str, Any]:
    """The Method's AuthorizationType / AuthorizerId / AuthorizationScopes for `authorization`."""
    if not isinstance(authorization, KINDS):
        raise TypeError(
            "authorization= takes Public(), Cognito(authorizer, scopes=()), Iam() or Custom(authorizer), "
            f"not {authorization!r}"
        )
    return authorization.method_properties()


# --- Lambda authorizers ------------------------------------------------------------------------

IDENTITY_PREFIXES = (
    "method.request.header.",
    "method.request.querystring.",
    "method.request.multivalueheader.",
    "method.request.multivaluequerystring.",
    "stageVariables.",
    "context.",
)
MAX_TTL_SECONDS = 3600


def identity_sources(kind: str, identity_source: str | Iterable[str] | None, ttl_seconds: int) -> str | None:
    """The Authorizer's `IdentitySource`, checked as API Gateway checks it.

    TOKEN: exactly one `method.request.header.<Name>` (default `Authorization`). REQUEST: zero or
    more mapping expressions joined by ", " (required when results are cached, ttl > 0).
    """
    if identity_source is None:
        sources: list[str] = ["method.request.header.Authorization"] if kind == "TOKEN" else []
    elif isinstance(identity_source, str):
        sources = [part.strip() for part in identity_source.split(",")]
    else:
        sources = [str(part).strip() for part in identity_source]
    for source in sources:
        if not source.startswith(IDENTITY_PREFIXES) or source in IDENTITY_PREFIXES:
            raise ValueError(f"identity source {source!r}: expected one of {', '.join(p + '<name>' for p in IDENTITY_PREFIXES)}")
    if kind == "TOKEN" and (len(sources) != 1 or not sources[0].startswith("method.request.header.")):
        raise ValueError(f"a TOKEN authorizer reads exactly one header (method.request.header.<Name>), not {sources}")
    if kind == "REQUEST" and not sources and ttl_seconds > 0:
        raise ValueError("a REQUEST authorizer whose results are cached (ttl_seconds > 0) needs an identity_source")
    return ", ".join(sources) if sources else None
