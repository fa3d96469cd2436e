"""The server over HTTP: keep-alive connections, S3 metadata headers, per-account isolation."""

from __future__ import annotations

import http.client
import json
import os
import signal
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from stagewise.cloud import LocalCloud, credentials
from tests.cloud.conftest import ACCOUNT_A, ACCOUNT_B, REGION, make_client


def list_tables_headers(port: int) -> dict[str, str]:
    """A DynamoDB ListTables request signed (SigV4) with account A's local keys, as any SDK sends it."""
    creds = credentials("", ACCOUNT_A)
    request = AWSRequest(method="POST", url=f"http://127.0.0.1:{port}/", data=b"{}", headers={
        "X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], creds["AWS_SESSION_TOKEN"]),
              "dynamodb", REGION).add_auth(request)
    return dict(request.headers)


def test_one_connection_serves_many_calls(cloud: LocalCloud) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", cloud.port, timeout=5)
    try:
        conn.connect()
        first_socket = conn.sock
        local_port = first_socket.getsockname()[1]
        for _ in range(5):
            conn.request("POST", "/", body=b"{}", headers=list_tables_headers(cloud.port))
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read()) == {"TableNames": []}
            assert response.getheader("Connection", "").lower() != "close"
            assert conn.sock is first_socket and conn.sock.getsockname()[1] == local_port
    finally:
        conn.close()


def test_s3_metadata_headers_round_trip(cloud: LocalCloud) -> None:
    s3 = make_client(cloud, "s3")
    s3.create_bucket(Bucket="meta-bucket")
    s3.put_object(Bucket="meta-bucket", Key="k", Body=b"x", Metadata={"my_key": "one", "Other-Key": "two", "plain": "3"})
    assert s3.head_object(Bucket="meta-bucket", Key="k")["Metadata"] == {"my_key": "one", "other-key": "two", "plain": "3"}


def test_accounts_are_isolated(cloud: LocalCloud) -> None:
    for account, name in ((ACCOUNT_A, "only-in-a"), (ACCOUNT_B, "only-in-b")):
        make_client(cloud, "sqs", account).create_queue(QueueName=name)
        assert make_client(cloud, "sts", account).get_caller_identity()["Account"] == account
    assert [u.rsplit("/", 1)[-1] for u in make_client(cloud, "sqs", ACCOUNT_A).list_queues()["QueueUrls"]] == ["only-in-a"]
    assert [u.rsplit("/", 1)[-1] for u in make_client(cloud, "sqs", ACCOUNT_B).list_queues()["QueueUrls"]] == ["only-in-b"]


def test_plain_boto3_with_local_credentials_acts_in_that_account(cloud: LocalCloud) -> None:
    """What a Lambda worker does: only env-style credentials and the endpoint, no special header."""
    creds = credentials(cloud.endpoint, ACCOUNT_B)
    session = boto3.session.Session(
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        region_name=REGION,
    )
    s3 = session.client("s3", endpoint_url=cloud.endpoint, config=Config(signature_version="s3v4"))
    s3.create_bucket(Bucket="worker-bucket")
    s3.put_object(Bucket="worker-bucket", Key="private/u/f.txt", Body=b"from b")
    assert session.client("sts", endpoint_url=cloud.endpoint).get_caller_identity()["Account"] == ACCOUNT_B
    assert [b["Name"] for b in make_client(cloud, "s3", ACCOUNT_B).list_buckets()["Buckets"]] == ["worker-bucket"]
    assert make_client(cloud, "s3", ACCOUNT_A).list_buckets()["Buckets"] == []

    url = s3.generate_presigned_url("get_object", Params={"Bucket": "worker-bucket", "Key": "private/u/f.txt"})
    with urllib.request.urlopen(url, timeout=5) as answer:
        assert answer.read() == b"from b"
    # Signature Version 2 is refused, as AWS refuses it for buckets made since 2020
    old = session.client("s3", endpoint_url=cloud.endpoint, config=Config(signature_version="s3"))
    url = old.generate_presigned_url("get_object", Params={"Bucket": "worker-bucket", "Key": "private/u/f.txt"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=5)
    assert refused.value.code == 400 and b"AWS4-HMAC-SHA256" in refused.value.read()


def test_credentials_are_stable_and_per_account() -> None:
    a1, a2 = credentials("http://127.0.0.1:1", ACCOUNT_A), credentials("http://127.0.0.1:2", ACCOUNT_A)
    assert a1 == a2
    assert credentials("http://127.0.0.1:1", ACCOUNT_B)["AWS_ACCESS_KEY_ID"] != a1["AWS_ACCESS_KEY_ID"]
    assert set(a1) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}


def test_health_endpoint_reports_the_state_dir(cloud: LocalCloud) -> None:
    with urllib.request.urlopen(f"{cloud.endpoint}/_stagewise/health", timeout=5) as answer:
        health = json.loads(answer.read())
    assert health["ok"] is True and health["state_dir"] == str(cloud.state_dir)


def test_sent_sms_are_readable_with_their_time_and_keep_it_across_a_crash(cloud: LocalCloud) -> None:
    import time

    from stagewise.cloud import sent_sms

    # GIVEN a Lambda function exists (moto's data.json fails then; our listing must not)
    make_client(cloud, "iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    before = time.time()
    make_client(cloud, "sns").publish(PhoneNumber="+15555550100", Message="Charged 4000 for Scratch charge")
    make_client(cloud, "sns", ACCOUNT_B).publish(PhoneNumber="+15555550199", Message="other account")
    (sent,) = sent_sms(cloud.endpoint, account_id=ACCOUNT_A)
    assert (sent["phone_number"], sent["message"]) == ("+15555550100", "Charged 4000 for Scratch charge")
    assert before <= sent["sent_at"] <= time.time()
    # WHEN the cloud is killed and restarted (the journal is replayed)
    os.kill(cloud.status().pid, signal.SIGKILL)
    time.sleep(0.5)
    cloud.start()
    # THEN the message is still listed with its original time
    assert sent_sms(cloud.endpoint, account_id=ACCOUNT_A) == [sent]


def test_long_poll_does_not_block_the_cloud_and_empty_polls_are_not_journaled(cloud: LocalCloud) -> None:
    import threading
    import time

    sqs = make_client(cloud, "sqs")
    queue = sqs.create_queue(QueueName="polled")["QueueUrl"]
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages") is None
    assert cloud.status().journal_entries == 1  # the empty receive changed nothing

    received: list[dict] = []
    poller = threading.Thread(
        target=lambda: received.extend(make_client(cloud, "sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=5)["Messages"])
    )
    started = time.monotonic()
    poller.start()
    time.sleep(0.5)
    sqs.send_message(QueueUrl=queue, MessageBody="wake up")  # served while the poll waits
    poller.join(10)
    assert [m["Body"] for m in received] == ["wake up"]
    assert time.monotonic() - started < 4
    assert cloud.status().journal_entries == 3  # create, send, the receive that got the message


def test_a_long_poll_waits_for_a_change_not_on_a_timer(cloud: LocalCloud) -> None:
    """An idle long poll costs the cloud almost nothing; a message sent while it waits is answered at once."""
    import threading
    import time

    from stagewise.testing import process_cpu_s

    sqs = make_client(cloud, "sqs")
    queue = sqs.create_queue(QueueName="idle")["QueueUrl"]
    sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)  # models loaded, connection open
    pid = cloud.status().pid

    def cpu_s() -> float:
        used = process_cpu_s(pid)
        assert used is not None
        return used

    before = cpu_s()
    assert sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=4).get("Messages") is None
    idle_cpu = cpu_s() - before
    # a look every 50 ms cost 0.15 s here; a look per write or per RECHECK_S, 0.02-0.03 s
    assert idle_cpu < 0.08, f"the cloud spent {idle_cpu:.3f} s of CPU on a 4 s poll that found nothing"

    answered: list[float] = []
    poller = threading.Thread(target=lambda: (
        make_client(cloud, "sqs").receive_message(QueueUrl=queue, WaitTimeSeconds=5), answered.append(time.monotonic())))
    poller.start()
    time.sleep(0.5)
    sent = time.monotonic()
    sqs.send_message(QueueUrl=queue, MessageBody="now")
    poller.join(10)
    assert answered and answered[0] - sent < 0.2


def test_ensure_running_starts_only_once(tmp_path) -> None:
    from tests.helpers import free_port

    local = LocalCloud(tmp_path / "c", free_port())
    try:
        assert local.ensure_running() is True
        assert local.ensure_running() is False
        assert local.status().running
    finally:
        local.stop()
    assert not local.status().running


def test_a_presigned_put_labelled_as_a_form_keeps_its_bytes(cloud: LocalCloud) -> None:
    # GIVEN a presigned PUT URL, and a client (urllib) that labels any body as a form
    s3 = make_client(cloud, "s3")
    s3.create_bucket(Bucket="uploads")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": "f.txt"}, ExpiresIn=60)
    # WHEN it uploads
    with urllib.request.urlopen(urllib.request.Request(url, data=b"raw bytes", method="PUT"), timeout=10) as answer:
        assert answer.status == 200
    # THEN S3 keeps the bytes as they are, like the real S3
    assert s3.get_object(Bucket="uploads", Key="f.txt")["Body"].read() == b"raw bytes"


def test_ec2_is_imported_only_when_used_and_then_works(cloud: LocalCloud) -> None:
    # GIVEN a cloud serving SSM (moto's SSM imports EC2, which the cloud defers)
    ssm = make_client(cloud, "ssm")
    ssm.put_parameter(Name="/app/dev/KEY", Value="v", Type="SecureString")
    assert ssm.get_parameter(Name="/app/dev/KEY", WithDecryption=True)["Parameter"]["Value"] == "v"
    # WHEN something really uses EC2 THEN the real module loads and answers
    regions = make_client(cloud, "ec2").describe_regions()["Regions"]
    assert any(region["RegionName"] == REGION for region in regions)


def test_head_object_answers_the_object_length_without_a_body(cloud: LocalCloud) -> None:
    """HEAD's Content-Length is the GET's (RFC 9110 §9.3.2), and no body follows it on the connection."""
    s3 = make_client(cloud, "s3")
    s3.create_bucket(Bucket="head-bucket")
    s3.put_object(Bucket="head-bucket", Key="k", Body=b"x" * 1234)
    for _ in range(3):  # one keep-alive connection: a stray body would corrupt the next answer's framing
        assert s3.head_object(Bucket="head-bucket", Key="k")["ContentLength"] == 1234
        assert s3.get_object(Bucket="head-bucket", Key="k")["Body"].read() == b"x" * 1234


def test_a_chunked_upload_reaches_s3_whole(cloud: LocalCloud) -> None:
    """A body sent with Transfer-Encoding: chunked (what a streaming client sends) is stored decoded."""
    s3 = make_client(cloud, "s3")
    s3.create_bucket(Bucket="chunked-bucket")
    url = s3.generate_presigned_url("put_object", Params={"Bucket": "chunked-bucket", "Key": "big"})
    parts = [b"a" * 70_000, b"b" * 5, b"c" * 100_000]
    request = urllib.request.Request(url, data=iter(parts), method="PUT",
                                     headers={"Transfer-Encoding": "chunked"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    assert s3.get_object(Bucket="chunked-bucket", Key="big")["Body"].read() == b"".join(parts)


def test_a_framing_error_is_refused_with_400_and_the_server_serves_on(cloud: LocalCloud) -> None:
    import socket

    with socket.create_connection(("127.0.0.1", cloud.port), timeout=5) as raw:
        raw.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
        assert raw.recv(4096).startswith(b"HTTP/1.1 400 ")
    assert make_client(cloud, "dynamodb").list_tables()["TableNames"] == []
