"""Every kind of authorization through a real `stagewise dev` of the authz test app, over HTTP, with
botocore's own SigV4 signer: a user signs in, gets identity credentials from the local identity
pool and calls the AWS_IAM route; every way to get it wrong answers API Gateway's 403 and body."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from stagewise.auth_local import id_token, identity_credentials
from stagewise.cloud.accounts import shared_client
from stagewise.cloud.identities import IdentityKeys, load_key
from stagewise.localstage import connect
from stagewise.testing import DevProcess, free_port, project_copy

pytestmark = pytest.mark.e2e
AUTHZ_APP = Path(__file__).resolve().parents[1] / "stacks" / "fixtures" / "authz_app"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def dev():
    with project_copy(AUTHZ_APP) as (root, state):
        process = DevProcess(port=free_port(), cloud_port=free_port())
        process.start()
        try:
            deadline = time.monotonic() + 90
            while True:
                assert process.proc.poll() is None, process.log()[-4000:]
                try:
                    if httpx.get(f"http://127.0.0.1:{process.port}/public", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, process.log()[-4000:]
                time.sleep(0.1)
            yield process, root, state
        finally:
            process.stop()
            subprocess.run([sys.executable, "-m", "stagewise.cli", "cloud", "stop"], capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def ann(dev) -> dict[str, Any]:
    """Ann's identity credentials, as `stagewise credentials` gets them."""
    local = connect("local")
    token = id_token(local.client("cognito-idp"), pool_id=local.output("UserPoolId"),
                     client_id=local.output("UserPoolClientId"), email="ann@example.com")
    identity = shared_client("cognito-identity", region_name=REGION, endpoint_url=local.endpoint,
                             config=Config(signature_version=UNSIGNED))  # as a signed-out browser calls it
    return identity_credentials(identity, token=token, region=REGION, user_pool_id=local.output("UserPoolId"),
                                identity_pool_id=local.output("IdentityPoolId"))


def url(dev, path: str) -> str:
    return f"http://127.0.0.1:{dev[0].port}{path}"


class SignedAt(SigV4Auth):
    """botocore's signer with the clock of a client whose time is off."""

    def __init__(self, credentials: Credentials, service: str, region: str, when: datetime) -> None:
        super().__init__(credentials, service, region)
        self.when = when

    def add_auth(self, request: AWSRequest) -> None:
        request.context["timestamp"] = self.when.strftime("%Y%m%dT%H%M%SZ")
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        self._inject_signature_to_request(request, self.signature(self.string_to_sign(request, canonical), request))


def signed_get(dev, path: str, creds: dict[str, Any], *, region: str = REGION, service: str = "execute-api",
               secret: str | None = None, when: datetime | None = None) -> httpx.Response:
    request = AWSRequest(method="GET", url=url(dev, path))
    credentials = Credentials(creds["accessKeyId"], secret or creds["secretAccessKey"], creds["sessionToken"])
    signer = SignedAt(credentials, service, region, when) if when else SigV4Auth(credentials, service, region)
    signer.add_auth(request)
    return httpx.get(url(dev, path), headers=dict(request.headers), timeout=10)


def minted(dev, ann: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Credentials the local cloud's identity key signs, with some facts changed (expired, another role)."""
    keys = IdentityKeys(load_key(dev[2]))
    made = keys.issue(account_id="111111111111", identity_id=ann["identityId"], pool_id="us-east-1:pool",
                      role_arn=overrides.pop("role_arn", "arn:aws:iam::111111111111:role/nobody"), **overrides)
    return {"accessKeyId": made["AccessKeyId"], "secretAccessKey": made["SecretKey"],
            "sessionToken": made["SessionToken"]}


def test_a_signed_in_identity_calls_the_iam_route(dev, ann) -> None:
    answer = signed_get(dev, "/iam", ann)
    assert answer.status_code == 200, answer.text
    identity = answer.json()["identity"]
    assert identity["cognitoIdentityId"] == ann["identityId"]
    assert identity["cognitoAuthenticationType"] == "authenticated"
    assert identity["cognitoIdentityPoolId"].startswith(f"{REGION}:")
    assert identity["cognitoAuthenticationProvider"].startswith(f"cognito-idp.{REGION}.amazonaws.com/")
    assert identity["accessKey"] == ann["accessKeyId"] and ":assumed-role/" in identity["userArn"]


def test_the_call_command_signs_as_a_user(dev) -> None:
    done = subprocess.run([sys.executable, "-m", "stagewise.cli", "call", "GET", "/iam", "--as", "cli@example.com",
                           "--url", url(dev, "")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "200", done.stderr
    assert json.loads(done.stdout)["identity"]["cognitoIdentityId"].startswith(f"{REGION}:")
    unsigned = subprocess.run([sys.executable, "-m", "stagewise.cli", "call", "GET", "/iam", "--url", url(dev, "")],
                              capture_output=True, text=True, timeout=60)
    assert unsigned.returncode == 1 and unsigned.stderr.strip() == "403"
    exported = subprocess.run([sys.executable, "-m", "stagewise.cli", "credentials", "cli@example.com", "--json"],
                              capture_output=True, text=True, timeout=60)
    assert set(json.loads(exported.stdout)) == {"identityId", "accessKeyId", "secretAccessKey", "sessionToken",
                                               "expiration", "region"}


def test_every_bad_signature_is_apis_403_never_a_5xx(dev, ann) -> None:
    mismatch = "The request signature we calculated does not match"
    cases = {
        "unsigned": (httpx.get(url(dev, "/iam"), timeout=10), "Missing Authentication Token"),
        "bad signature": (signed_get(dev, "/iam", ann, secret="wrong" * 8), mismatch),
        "wrong service": (signed_get(dev, "/iam", ann, service="s3"),
                          "Credential should be scoped to correct service: 'execute-api'. "),
        "wrong region": (signed_get(dev, "/iam", ann, region="eu-west-1"),
                         "Credential should be scoped to a valid region, not 'eu-west-1'. "),
        "clock skew": (signed_get(dev, "/iam", ann, when=datetime.now(UTC) - timedelta(minutes=6)),
                       "Signature expired"),
        "expired session": (signed_get(dev, "/iam", minted(dev, ann, now=time.time() - 7200)),
                            "The security token included in the request is expired"),
        "tampered token": (signed_get(dev, "/iam", {**ann, "sessionToken": ann["sessionToken"][:-2] + "00"}),
                           "The security token included in the request is invalid."),
        "malformed header": (httpx.get(url(dev, "/iam"), headers={"Authorization": "AWS4-HMAC-SHA256 nonsense"},
                                       timeout=10), "Authorization header requires"),
    }
    for name, (answer, message) in cases.items():
        assert answer.status_code == 403, (name, answer.status_code, answer.text)
        assert answer.json()["message"].startswith(message), (name, answer.text)


def test_a_role_without_execute_api_invoke_is_refused_by_name(dev, ann) -> None:
    answer = signed_get(dev, "/iam", minted(dev, ann))
    assert answer.status_code == 403
    body = answer.json()["Message"]
    assert body.startswith("User: arn:aws:sts::111111111111:assumed-role/nobody/CognitoIdentityCredentials "
                           "is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:")
    assert body.endswith("/local/GET/iam")


def test_the_other_kinds_through_the_same_gateway(dev) -> None:
    assert httpx.get(url(dev, "/public"), timeout=10).status_code == 200
    allowed = httpx.get(url(dev, "/custom-token"), headers={"Authorization": "allow"}, timeout=10)
    assert allowed.status_code == 200 and allowed.json()["authorizer"]["user"] == "token-user"
    denied = httpx.get(url(dev, "/custom-token"), headers={"Authorization": "deny"}, timeout=10)
    assert denied.status_code == 403
    assert httpx.get(url(dev, "/cognito"), timeout=10).status_code == 401


def test_a_token_forged_with_motos_bundled_key_is_refused_by_the_gateway(dev) -> None:
    import jwt as pyjwt
    from joserfc import jwt as jose_jwt
    from joserfc.jwk import RSAKey
    from moto.utilities.utils import load_resource

    local = connect("local")
    token = id_token(local.client("cognito-idp"), pool_id=local.output("UserPoolId"),
                     client_id=local.output("UserPoolClientId"), email="ann@example.com")
    assert httpx.get(url(dev, "/cognito"), headers={"Authorization": token}, timeout=10).status_code == 200
    claims = pyjwt.decode(token, options={"verify_signature": False})
    forged = jose_jwt.encode({"kid": "dummy", "alg": "RS256"}, {**claims, "sub": "mallory"},
                             RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json")))
    assert httpx.get(url(dev, "/cognito"), headers={"Authorization": forged}, timeout=10).status_code == 401
