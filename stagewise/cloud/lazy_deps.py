"""Import moto's backends without dependencies they load at import but use only in rare calls
(server process only; `install()` does all of it before the snapshot is restored).

SSM without EC2: moto's SSM imports `ec2_backends` at module level, and importing moto.ec2 costs ~0.9 s of
start-up (its models and instance-type data) — on every cloud start with SSM state to restore,
and on the first SSM call of a fresh one. SSM touches EC2 only for Run Command targets, which a
serverless app does not use. `import_ssm_without_ec2()` imports SSM against a stand-in
`moto.ec2` whose `ec2_backends` loads the real one on first use, then takes the stand-in out
of `sys.modules`, so anything else that imports moto.ec2 gets the real package.

API Gateway without the OpenAPI validator: moto's API Gateway imports `openapi_spec_validator`
(with jsonschema-path and pydantic-settings: ~0.1-0.2 s, over half of restoring a snapshot of this
app) to validate documents given to ImportRestApi / PutRestApi with FailOnWarnings, which
stagewise's templates never use. It is imported against stand-ins whose `validate` loads the
real validator on first use and puts the real `validate` and `OpenAPIValidationError` into moto's
module before calling it, so an invalid document is still refused as moto refuses it.

IAM without AWS's managed policies: moto's IAM imports them as one 4.7 MB JSON string (a module
constant, held for the life of the process: ~5 MB of the cloud's memory) and reads it only when
an account's IAM backend is made with MOTO_IAM_LOAD_MANAGED_POLICIES on (off unless the user turns
it on). It is imported against a stand-in holding an empty string, and the backend's
`_init_aws_policies` puts the real string into moto's module before the first read.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

_EC2 = "moto.ec2"


class _DeferredBackends:
    """SSM's `ec2_backends`: the first real use (Run Command) imports EC2 and forwards to it."""

    def _real(self) -> Any:
        return importlib.import_module(_EC2).ec2_backends

    def __getitem__(self, key: str) -> Any:
        return self._real()[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)


def import_ssm_without_ec2() -> None:
    if "moto.ssm.models" in sys.modules or _EC2 in sys.modules:
        return
    stand_in = types.ModuleType(_EC2)
    stand_in.ec2_backends = _DeferredBackends()  # type: ignore[attr-defined]
    sys.modules[_EC2] = stand_in
    try:
        importlib.import_module("moto.ssm.models")
    finally:
        if sys.modules.get(_EC2) is stand_in:
            del sys.modules[_EC2]


_VALIDATOR = "openapi_spec_validator"
_VALIDATOR_ERRORS = "openapi_spec_validator.validation.exceptions"
_APIGATEWAY = "moto.apigateway.models"


class _NotYetLoadedError(Exception):
    """moto's `except OpenAPIValidationError` until the real validator is loaded (nothing raises it)."""


def _validate_on_first_use(*args: Any, **kwargs: Any) -> Any:
    real = importlib.import_module(_VALIDATOR)
    models = sys.modules[_APIGATEWAY]
    models.OpenAPIValidationError = importlib.import_module(_VALIDATOR_ERRORS).OpenAPIValidationError
    models.validate = real.validate
    return real.validate(*args, **kwargs)


def import_apigateway_without_validator() -> None:
    if _APIGATEWAY in sys.modules or _VALIDATOR in sys.modules:
        return
    top = types.ModuleType(_VALIDATOR)
    top.validate = _validate_on_first_use  # type: ignore[attr-defined]
    errors = types.ModuleType(_VALIDATOR_ERRORS)
    errors.OpenAPIValidationError = _NotYetLoadedError  # type: ignore[attr-defined]
    stand_ins = {_VALIDATOR: top, f"{_VALIDATOR}.validation": types.ModuleType(f"{_VALIDATOR}.validation"),
                 _VALIDATOR_ERRORS: errors}
    sys.modules.update(stand_ins)
    try:
        importlib.import_module(_APIGATEWAY)
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


_POLICIES = "moto.iam.aws_managed_policies"
_IAM = "moto.iam.models"


def _with_real_policies(init_aws_policies: Any) -> Any:
    def init(backend: Any) -> Any:
        models = sys.modules[_IAM]
        if models.load_iam_aws_managed_policies() and not models.aws_managed_policies_data:
            models.aws_managed_policies_data = importlib.import_module(_POLICIES).aws_managed_policies_data
        return init_aws_policies(backend)

    return init


def import_iam_without_managed_policies() -> None:
    if _IAM in sys.modules or _POLICIES in sys.modules:
        return
    stand_in = types.ModuleType(_POLICIES)
    stand_in.aws_managed_policies_data = ""  # type: ignore[attr-defined]
    sys.modules[_POLICIES] = stand_in
    try:
        models = importlib.import_module(_IAM)
    finally:
        if sys.modules.get(_POLICIES) is stand_in:
            del sys.modules[_POLICIES]
    models.IAMBackend._init_aws_policies = _with_real_policies(models.IAMBackend._init_aws_policies)


def install() -> None:
    """Import the backends above without their heavy, rarely used dependencies."""
    import_iam_without_managed_policies()  # first: the other backends import IAM
    import_ssm_without_ec2()
    import_apigateway_without_validator()
