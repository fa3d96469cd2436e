"""moto's SSM without EC2 and API Gateway without the OpenAPI validator, in the cloud process; each
still loads when really used."""

from __future__ import annotations

from tests.helpers import run_program_ok

PROGRAM = """
import sys
from stagewise.cloud import lazy_deps
lazy_deps.import_ssm_without_ec2()
assert "moto.ssm.models" in sys.modules
assert "moto.ec2.models" not in sys.modules, "EC2 was imported with SSM"
import moto.ssm.models as ssm
backend = ssm.ec2_backends["123456789012"]["us-east-1"]  # Run Command's only use of EC2
assert type(backend).__name__ == "EC2Backend"
import moto.ec2
assert moto.ec2.ec2_backends["123456789012"]["us-east-1"] is backend
print("ok")
"""


def test_ssm_imports_without_ec2_and_ec2_loads_on_first_use() -> None:
    run_program_ok(PROGRAM)


VALIDATOR_PROGRAM = """
import sys
from stagewise.cloud import lazy_deps
lazy_deps.install()
assert "moto.apigateway.models" in sys.modules
assert "openapi_spec_validator" not in sys.modules, "the validator was imported with API Gateway"
from moto.apigateway.exceptions import InvalidOpenAPIDocumentException
from moto.apigateway.models import apigateway_backends
backend = apigateway_backends["123456789012"]["us-east-1"]
try:
    backend.import_rest_api({"openapi": "3.0.0", "paths": "not a mapping"}, fail_on_warnings=True)
except InvalidOpenAPIDocumentException:
    pass
else:
    raise AssertionError("an invalid document was accepted")
assert "openapi_spec_validator" in sys.modules
good = {"openapi": "3.0.0", "info": {"title": "t", "description": "d", "version": "1"}, "paths": {}}
assert backend.import_rest_api(good, fail_on_warnings=True).name == "t"
print("ok")
"""


def test_api_gateway_imports_without_the_validator_and_still_validates_when_asked() -> None:
    run_program_ok(VALIDATOR_PROGRAM)


IAM_PROGRAM = """
import os, sys
from stagewise.cloud import lazy_deps
lazy_deps.install()
assert "moto.iam.models" in sys.modules
assert "moto.iam.aws_managed_policies" not in sys.modules, "AWS's managed policies were imported with IAM"
from moto.iam.models import iam_backends
assert iam_backends["123456789012"]["global"].aws_managed_policies == []
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
backend = iam_backends["210987654321"]["global"]
policy = backend.get_policy("arn:aws:iam::aws:policy/AdministratorAccess")
assert policy.name == "AdministratorAccess"
print("ok")
"""


def test_iam_imports_without_aws_managed_policies_and_loads_them_when_turned_on() -> None:
    run_program_ok(IAM_PROGRAM)
