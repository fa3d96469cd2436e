"""A deploy killed with SIGKILL mid-run: the next deploy is refused with the holder, `--force-unlock`
breaks the lock, reports each stack's state and completes the deploy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from stagewise.cloud import client
from stagewise.cloud.layout import PROVISIONER_DIR
from stagewise.pipeline.history import History
from stagewise.pipeline.store import PipelineStore
from stagewise.provisioner import Provisioner

CLI = ["-m", "stagewise.cli"]  # the real command; it finds the test's cloud by STAGEWISE_STATE_DIR/cloud.port
REPO = Path(__file__).resolve().parents[2]


def cli_env(cloud, project_dir) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "STAGEWISE_LOCAL"}
    env.update(STAGEWISE_PROJECT=str(project_dir), STAGEWISE_STATE_DIR=str(cloud.state_dir), PYTHONPATH=str(REPO))
    return env


def run(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *CLI, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def deploy_killed_when(env, condition) -> subprocess.Popen:
    """Start `deploy --stage dev` in a child and SIGKILL it as soon as `condition()` holds."""
    child = subprocess.Popen([sys.executable, *CLI, "deploy", "--stage", "dev", "--local", "--yes"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not condition():
            assert child.poll() is None, "the deploy finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    return child


def pending_build(s3) -> bool:
    bucket = "stagewise-111111111111-us-east-1-artifacts"
    for item in s3.list_objects_v2(Bucket=bucket, Prefix="builds/dev/").get("Contents", []):  # any record
        record = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        if record["build"]["result"] == "PENDING":
            return True
    return False


def test_kill_9_then_force_unlock_recovers(cloud, project_dir):
    """Killed while updating a function (an update the next run can simply repeat): the next run is
    refused with the holder; --force-unlock breaks the lock, reports each stack and completes."""
    env = cli_env(cloud, project_dir)
    assert run(env, "bootstrap", "--account", "dev", "--local").returncode == 0
    assert run(env, "deploy", "--stage", "dev", "--local", "--yes").returncode == 0
    handler = project_dir / "services/api/api_pkg/handler.py"
    handler.write_text(handler.read_text().replace("VERSION = 1", "VERSION = 2"))
    s3 = client(cloud.endpoint, account_id="111111111111", region="us-east-1", service="s3")
    child = deploy_killed_when(env, lambda: pending_build(s3))

    refused = run(env, "deploy", "--stage", "dev", "--local", "--yes")
    assert refused.returncode == 3
    assert f"pid {child.pid}" in refused.stderr and "--force-unlock" in refused.stderr

    recovered = run(env, "deploy", "--stage", "dev", "--local", "--yes", "--force-unlock", "--json")
    assert recovered.returncode == 0, recovered.stdout
    assert "was interrupted; its stacks now:" in recovered.stderr
    result = json.loads(recovered.stdout)
    assert result["result"] == "succeeded"
    assert any("was interrupted" in note for note in result["notes"])
    builds = json.loads(run(env, "builds", "dev", "--local", "--json").stdout)
    assert [b["result"] for b in builds] == ["SUCCEEDED", "FAILED", "SUCCEEDED"] and builds[2]["live"]
    assert builds[1]["message"] == "interrupted before it finished"
    # the kill may land before or after the function's update: either way the new code is live now
    assert {s["stack"]: s["outcome"] for s in result["stacks"]}["dev-shop-api"] in ("deployed", "skipped")
    live = Provisioner(lambda service: client(cloud.endpoint, account_id="111111111111", region="us-east-1",
                                              service=service), account_id="111111111111", region="us-east-1")
    code = live.describe("dev-shop-api").resources["Hello"].properties["Code"]["S3Key"]
    history = History(PipelineStore(s3, account_id="111111111111", region="us-east-1"))
    new_key = history.load("dev", builds[2]["id"]).build.functions[0].code_key
    assert code == new_key != history.load("dev", builds[0]["id"]).build.functions[0].code_key


def creating(cloud) -> bool:
    """Some stack of the first deploy is part-way through its creates (its in-flight checkpoint says so)."""
    folder = cloud.state_dir / PROVISIONER_DIR / "111111111111-us-east-1"
    for path in folder.glob("*.json"):
        try:
            state = json.loads(path.read_text())
        except (OSError, ValueError):  # replaced while read
            continue
        if state["status"] == "CREATE_IN_PROGRESS" and (state["resources"] or state.get("pending")):
            return True
    return False


def test_kill_9_in_the_middle_of_creates_then_the_rerun_completes_without_duplicates(cloud, project_dir):
    env = cli_env(cloud, project_dir)
    assert run(env, "bootstrap", "--account", "dev", "--local").returncode == 0
    deploy_killed_when(env, lambda: creating(cloud))

    recovered = run(env, "deploy", "--stage", "dev", "--local", "--yes", "--force-unlock", "--json")
    assert recovered.returncode == 0, recovered.stdout + recovered.stderr
    assert json.loads(recovered.stdout)["result"] == "succeeded"
    sns = client(cloud.endpoint, account_id="111111111111", region="us-east-1", service="sns")
    live = Provisioner(lambda service: client(cloud.endpoint, account_id="111111111111", region="us-east-1",
                                              service=service), account_id="111111111111", region="us-east-1")
    infra = live.describe("dev-shop-infra")
    assert infra.pending == {}
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert topics == [r.physical_id for r in infra.resources.values() if r.type == "AWS::SNS::Topic"]
    dynamodb = client(cloud.endpoint, account_id="111111111111", region="us-east-1", service="dynamodb")
    assert dynamodb.list_tables()["TableNames"] == [infra.resources["Table"].physical_id]
