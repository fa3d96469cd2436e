"""What the AWS_IAM check adds to a request: the local gateway's IAM plug-in authorizing a botocore-
signed GET, in-process, with identity credentials from a real local identity pool (its role's
policies read once from the local cloud's IAM and then cached, as the gateway does while serving).

Data flow: a local cloud on a free port → the identity-pool stack of tests/cloud/identity_pool.py
(user pool, identity pool, a role allowed `execute-api:Invoke`) through the local CloudFormation →
a user's identity credentials → N signed requests → `IamAuthorizer.authorize` timed per request →
p50 / p99 in microseconds. (The end-to-end warm GET through `stagewise dev` is dev_bench's figure.)
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
ROUNDS = 2000


def run() -> dict[str, float]:
    sys.path.insert(0, str(REPO))
    from stagewise.testing import running_cloud

    with tempfile.TemporaryDirectory(prefix="stagewise-auth-bench-") as tmp, running_cloud(Path(tmp) / "cloud") as cloud:
        samples = _measure(cloud)
        guard = _measure_guard(Path(tmp) / "cloud")
    return {**_percentiles("iam_check", samples), **_percentiles("cloud_sigv4", guard)}


def _percentiles(name: str, samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {f"{name}_p50_us": round(statistics.median(ordered), 1),
            f"{name}_p99_us": round(ordered[int(len(ordered) * 0.99) - 1], 1)}


def _measure_guard(state_dir: Path) -> list[float]:
    """The local cloud's check of one SDK call (a DynamoDB GetItem signed with an account's keys)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from stagewise.cloud.accounts import credentials
    from stagewise.cloud.guard import INTERNAL, Guard
    from stagewise.cloud.identities import IdentityKeys, load_key
    from stagewise.cloud.inprocess import environ_of

    own = credentials("", "111111111111")
    guard = Guard(IdentityKeys(load_key(state_dir)), iam_for=lambda account: None)
    body = b'{"TableName": "notes", "Key": {"userId": {"S": "u"}, "noteId": {"S": "n"}}}'
    request = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body, headers={
        "X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(own["AWS_ACCESS_KEY_ID"], own["AWS_SECRET_ACCESS_KEY"], own["AWS_SESSION_TOKEN"]),
              "dynamodb", "us-east-1").add_auth(request)
    environ = environ_of(request.prepare())
    environ.pop(INTERNAL)
    assert guard.check(environ, body) is None
    samples = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        guard.check(environ, body)
        samples.append((time.perf_counter() - began) * 1e6)
    return samples


def _measure(cloud: Any) -> list[float]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from stagewise.cloud.accounts import credentials
    from stagewise.runtime.authorizers.base import AuthCall, AuthorizerDeps
    from stagewise.runtime.authorizers.iam import IamAuthorizer
    from stagewise.runtime.events import ApiContext, HttpRequest
    from tests.cloud.conftest import ACCOUNT_B, REGION, make_client
    from tests.cloud.identity_pool import deploy_pool, logins, token_for, unsigned

    pool = deploy_pool(cloud)
    iam = make_client(cloud, "iam", ACCOUNT_B)
    iam.put_role_policy(RoleName=pool["RoleArn"].rsplit("/", 1)[-1], PolicyName="invoke", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke",
                                                 "Resource": f"arn:aws:execute-api:{REGION}:{ACCOUNT_B}:api1/dev/*"}]}))
    identity = unsigned(cloud)
    ann = logins(pool, token_for(cloud, pool, "bench@example.com"))
    identity_id = identity.get_id(IdentityPoolId=pool["IdentityPool"], Logins=ann)["IdentityId"]
    creds = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=ann)["Credentials"]
    env = {"AWS_ENDPOINT_URL": cloud.endpoint, **credentials(cloud.endpoint, ACCOUNT_B)}
    plugin = IamAuthorizer(AuthorizerDeps(model=None, workers=None, region=REGION, log=lambda line: None,  # type: ignore[arg-type]
                                          base_env=env))
    call = AuthCall(api=ApiContext(account_id=ACCOUNT_B, api_id="api1", stage="dev", region=REGION), method="GET",
                    path="/notes/01ABC", path_parameters={"id": "01ABC"}, request_id="r", authorizer=None)
    signed = AWSRequest(method="GET", url="http://127.0.0.1:3000/notes/01ABC")
    SigV4Auth(Credentials(creds["AccessKeyId"], creds["SecretKey"], creds["SessionToken"]), "execute-api",
              REGION).add_auth(signed)
    request = HttpRequest(method="GET", path="/notes/01ABC",
                          headers=[("Host", "127.0.0.1:3000"), *dict(signed.headers).items()])
    plugin.authorize(request, None, call)  # type: ignore[arg-type]  (reads the role's policies once)
    samples = []
    for _ in range(ROUNDS):
        began = time.perf_counter()
        plugin.authorize(request, None, call)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - began) * 1e6)
    return samples


if __name__ == "__main__":
    print(run())
