"""No secret value appears in any template, build record, log line or error body.

GIVEN a distinctive Stripe key set as the stage's secret (a canary), WHEN the app is run by
`stagewise dev`, billed through, made to fail, and shipped with `stagewise deploy --local`,
THEN the canary is found nowhere the tool writes or prints: dev's log (every worker's log
lines included), HTTP bodies, synthesised templates, CLI output, build and deploy records
and artifacts in the pipeline bucket.
"""

from __future__ import annotations

import secrets
import subprocess
import sys

import boto3
import httpx
import pytest

from stagewise.cloud import LocalCloud, credentials, default_state_dir
from stagewise.testing import DevProcess, free_port, httpx_auth, running_cloud
from tests.e2e.conftest import sign_in, stagewise_cli, wait_ready

pytestmark = pytest.mark.e2e

CANARY = "sk_test_canary_" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def cloud(app_copy):
    with running_cloud(default_state_dir()) as local_cloud:
        yield local_cloud


@pytest.fixture(scope="module")
def outputs(cloud) -> list[str]:
    """Everything printed or written while the canary key is in use."""
    printed = [stagewise_cli("secrets", "set", "STRIPE_SECRET_KEY", "--stage", "local", input=CANARY).stdout]
    dev = DevProcess(port=free_port(), cloud_port=cloud.port)
    dev.start()
    try:
        wait_ready(dev)
        printed += exercise_billing(dev.port, sign_in("leak@example.com"))
    finally:
        dev.stop()
    printed.append(dev.log())
    return printed


def exercise_billing(port: int, identity_credentials: dict) -> list[str]:
    bodies = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=httpx_auth(identity_credentials), timeout=30) as api:
        for body in ({"storage": 10, "source": "tok_visa"}, {"storage": 10, "source": "tok_chargeDeclined"},
                     {"storage": 10, "source": "tok_unknown"}, {"storage": "ten"}, {}):
            answer = api.post("/billing", json=body)
            bodies.append(f"{answer.status_code} {dict(answer.headers)} {answer.text}")
    return bodies


def test_the_canary_really_was_the_key_in_use(outputs, cloud) -> None:
    creds = credentials(cloud.endpoint, "111111111111")
    ssm = boto3.client("ssm", endpoint_url=cloud.endpoint, region_name="us-east-1",
                       aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=creds["AWS_SESSION_TOKEN"])
    stored = ssm.get_parameter(Name="/notes/local/STRIPE_SECRET_KEY", WithDecryption=True)["Parameter"]["Value"]
    assert stored == CANARY  # dev kept the stage's own key instead of the local test key
    assert any(text.startswith("200 ") for text in outputs)  # a charge went through with it


def test_no_log_line_or_response_body_holds_the_key(outputs) -> None:
    assert outputs and all(CANARY not in text for text in outputs)


def test_secrets_list_shows_the_name_not_the_value(outputs) -> None:
    listed = stagewise_cli("secrets", "list", "--stage", "local").stdout
    assert "STRIPE_SECRET_KEY" in listed and CANARY not in listed


def test_templates_records_and_artifacts_hold_no_secret(outputs, cloud, tmp_path) -> None:
    printed = [stagewise_cli("synth", "--stage", "dev", "--out", str(tmp_path / "synth")).stdout]
    printed.append(stagewise_cli("secrets", "set", "STRIPE_SECRET_KEY", "--stage", "dev", "--local",
                                 input=CANARY).stdout)
    printed.append(stagewise_cli("bootstrap", "--account", "dev", "--local").stdout)
    printed.append(stagewise_cli("domains", "zone", "--stage", "prod", "--local").stdout)  # dev's zone (domains.md)
    printed.append(stagewise_cli("domains", "delegate", "--from", "prod", "--to", "dev", "--local").stdout)
    deployed = subprocess.run([sys.executable, "-m", "stagewise.cli", "deploy", "--stage", "dev", "--local",
                               "--yes", "--json"], capture_output=True, text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stderr[-3000:]
    printed += [deployed.stdout, deployed.stderr]
    for template in (tmp_path / "synth").glob("*.json"):
        printed.append(template.read_text())
    printed += bucket_contents(cloud)
    assert len(printed) > 8
    assert all(CANARY not in text for text in printed)


def bucket_contents(cloud: LocalCloud) -> list[str]:
    """Every object of every bucket in the dev account: records, templates, artifact zips (as bytes)."""
    creds = credentials(cloud.endpoint, "111111111111")
    s3 = boto3.client("s3", endpoint_url=cloud.endpoint, region_name="us-east-1",
                      aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                      aws_session_token=creds["AWS_SESSION_TOKEN"])
    found = []
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=item["Key"])["Body"].read()
                found.append(body.decode("latin-1"))
    return found


def test_the_local_clouds_files_hold_no_secret(outputs, cloud) -> None:
    """Journal, snapshot, checkpoints, records, logs: the key is in none of them (they are sealed)."""
    files = [path for path in cloud.state_dir.rglob("*") if path.is_file()]
    assert all(CANARY.encode() not in path.read_bytes() for path in files)
    # the journal keeps request bodies base64-encoded: no plain search finds them, so check it is sealed
    journal = (cloud.state_dir / "journal.jsonl").read_bytes().splitlines()
    assert journal and not any(line.lstrip().startswith(b"{") for line in journal)
