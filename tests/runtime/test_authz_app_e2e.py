"""The authorization test app (tests/stacks/fixtures/authz_app) deployed by the local provisioner
into an in-process moto cloud, then served by the runtime: one route per kind of authorization.

Checks that the provisioner creates TOKEN / REQUEST authorizers the model can read back, and that
each route gets its plug-in's decision over HTTP."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from moto import mock_aws

from stagewise.config import load_project
from stagewise.provisioner import Provisioner
from stagewise.runtime import Runtime, RuntimeModel
from stagewise.stacks import deploy_phases, render_stage, stack_name
from tests.runtime.conftest import BASE_ENV, Logs

pytestmark = pytest.mark.e2e

AUTHZ_APP = Path(__file__).resolve().parents[1] / "stacks" / "fixtures" / "authz_app"
REGION = "us-east-1"
ACCOUNT = "111111111111"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RuntimeModel]:
    app = tmp_path_factory.mktemp("authz") / "app"
    shutil.copytree(AUTHZ_APP, app, ignore=shutil.ignore_patterns("__pycache__", ".stagewise"))
    project = load_project(app / "stagewise.toml")
    templates = render_stage(project, project.stage("dev"))
    with mock_aws():
        session = boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        prov = Provisioner(session.client, account_id=ACCOUNT, region=REGION)
        for phase in deploy_phases(templates):
            for service in phase:
                prov.deploy(stack_name(project, "dev", service), templates[service])
        states = prov.list_stacks()
    return app, RuntimeModel.from_stacks(states, repo_root=app)


@pytest.fixture(scope="module")
def client(deployed) -> Iterator[httpx.Client]:
    app, model = deployed
    logs = Logs()
    runtime = Runtime(model, repo_root=app, worker_env=BASE_ENV, region=REGION, log=logs, hot_reload=False)
    runtime.start(port=0)
    try:
        with httpx.Client(base_url=runtime.url, timeout=30) as http:
            yield http
    finally:
        runtime.stop()


def test_the_model_reads_the_deployed_lambda_authorizers(deployed):
    _, model = deployed
    by_name = {a.name: a for a in model.authorizers.values()}
    token, request = by_name["dev-authz-token"], by_name["dev-authz-request"]
    assert (token.type, token.function, token.identity_sources, token.validation_expression, token.ttl_s) == (
        "TOKEN", "TokenAuth", ("method.request.header.Authorization",), "^[a-z]+$", 60)
    assert (request.type, request.function, request.identity_sources, request.ttl_s) == (
        "REQUEST", "RequestAuth", ("method.request.header.X-Key", "method.request.querystring.key"), 0)
    assert by_name["dev-authz-users"].type == "COGNITO_USER_POOLS"
    assert not [w for w in model.warnings if "authorizer" in w.lower()]


def test_public_route(client):
    body = client.get("/public").json()
    assert body["route"] == "GET /public" and body["authorizer"] is None


def test_cognito_route_needs_a_token(client):
    assert (client.get("/cognito").status_code, client.get("/cognito").json()) == (401, {"message": "Unauthorized"})


def test_iam_route_is_never_served_unsigned(client):
    response = client.get("/iam")
    assert response.status_code in (403, 500), response.text  # 500 until the AWS_IAM plug-in exists, then 403


def test_custom_token_route(client):
    allowed = client.get("/custom-token", headers={"Authorization": "allow"})
    assert allowed.status_code == 200, allowed.text
    authorizer = allowed.json()["authorizer"]
    assert {k: v for k, v in authorizer.items() if k != "integrationLatency"} == {
        "principalId": "token-user", "user": "token-user", "tier": "3", "admin": "true"}
    assert client.get("/custom-token", headers={"Authorization": "deny"}).status_code == 403
    assert client.get("/custom-token", headers={"Authorization": "unauthorized"}).status_code == 401
    assert client.get("/custom-token", headers={"Authorization": "malformed"}).json() == {"message": None}
    assert client.get("/custom-token", headers={"Authorization": "other"}).status_code == 500
    assert client.get("/custom-token", headers={"Authorization": "Not-Valid"}).status_code == 401  # expression


def test_custom_request_route(client):
    allowed = client.get("/custom-request?key=k1", headers={"X-Key": "allow"})
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["authorizer"]["key"] == "k1"
    assert client.get("/custom-request", headers={"X-Key": "allow"}).status_code == 401  # no ?key
    assert client.get("/custom-request?key=k1").status_code == 401  # no X-Key
    assert client.get("/custom-request?key=k1", headers={"X-Key": "deny"}).status_code == 403
