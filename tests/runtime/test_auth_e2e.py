"""Authenticated routes over HTTP: a local JWKS, and a real moto user pool with its own RS256 tokens."""

import time

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from stagewise.runtime import Runtime, RuntimeModel
from tests.helpers import free_port
from tests.runtime.conftest import BASE_ENV, start_runtime
from tests.runtime.stacks import REGION, api_stack
from tests.runtime.tokens import POOL

pytestmark = pytest.mark.e2e


def test_valid_token_reaches_the_function_with_claims(app_copy, logs, cognito):
    model = RuntimeModel.from_stacks([api_stack(POOL)], repo_root=app_copy)
    model.user_pool_clients[POOL] = {"client-1"}
    runtime = Runtime(model, repo_root=app_copy, worker_env=BASE_ENV, region=REGION, log=logs,
                      cognito_endpoint=cognito.endpoint, hot_reload=False)
    runtime.start(port=0)
    try:
        with httpx.Client(base_url=runtime.url, timeout=10) as client:
            response = client.get("/secure", headers={"Authorization": cognito.token()})
            assert response.status_code == 200
            claims = response.json()["event"]["requestContext"]["authorizer"]["claims"]
            assert claims["sub"] == "user-1" and claims["email_verified"] == "true"
            expired = client.get("/secure", headers={"Authorization": cognito.token(exp=int(time.time()) - 1)})
            assert (expired.status_code, expired.json()) == (401, {"message": "The incoming token has expired"})
            assert client.get("/secure", headers={"Authorization": "junk"}).status_code == 401
    finally:
        runtime.stop()


def test_moto_user_pool_token(app_copy, logs):
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    runtime = None
    try:
        endpoint = f"http://127.0.0.1:{port}"
        idp = boto3.client("cognito-idp", region_name="us-east-1", endpoint_url=endpoint,
                           aws_access_key_id="test", aws_secret_access_key="test")
        pool = idp.create_user_pool(PoolName="p")["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                                ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"])["UserPoolClient"]["ClientId"]
        idp.admin_create_user(UserPoolId=pool, Username="a@example.com", TemporaryPassword="Passw0rd!",
                              MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool, Username="a@example.com", Password="Passw0rd!", Permanent=True)
        tokens = idp.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_NO_SRP_AUTH",
                                         AuthParameters={"USERNAME": "a@example.com", "PASSWORD": "Passw0rd!"})
        id_token = tokens["AuthenticationResult"]["IdToken"]
        runtime = start_runtime(app_copy, logs, pool_id=pool, endpoint=endpoint, hot_reload=False)
        with httpx.Client(base_url=runtime.url, timeout=10) as client:
            response = client.get("/secure", headers={"Authorization": f"Bearer {id_token}"})
            assert response.status_code == 200, logs.text()
            assert response.json()["event"]["requestContext"]["authorizer"]["claims"]["aud"] == client_id
            access = tokens["AuthenticationResult"]["AccessToken"]
            assert client.get("/secure", headers={"Authorization": access}).status_code == 401
    finally:
        if runtime is not None:
            runtime.stop()
        moto.stop()
