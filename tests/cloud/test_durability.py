"""A kill -9 loses nothing acknowledged: every kind of resource comes back with the same ids."""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import jwt

from stagewise.cloud import LocalCloud
from stagewise.cloud.app import SNAPSHOT_EVERY
from tests.cloud.conftest import ACCOUNT_A, make_client

PASSWORD = "Passw0rd!long"


def create_everything(cloud: LocalCloud) -> dict[str, Any]:
    """One of each resource the app uses; returns the ids and values to compare after a crash."""
    ddb, s3, idp = (make_client(cloud, s) for s in ("dynamodb", "s3", "cognito-idp"))
    identity, sns, sqs, ssm = (make_client(cloud, s) for s in ("cognito-identity", "sns", "sqs", "ssm"))
    ddb.create_table(
        TableName="notes",
        KeySchema=[{"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "noteId", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "noteId", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for n in range(3):
        ddb.put_item(TableName="notes", Item={"userId": {"S": "u1"}, "noteId": {"S": f"n{n}"}, "body": {"S": f"b{n}"}})
    s3.create_bucket(Bucket="uploads-bucket")
    s3.put_object(Bucket="uploads-bucket", Key="private/u1/a b.txt", Body=b"attachment", Metadata={"owner_id": "u1"})
    pool = idp.create_user_pool(PoolName="users", UsernameAttributes=["email"])["UserPool"]["Id"]
    app_client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(UserPoolId=pool, Username="ann@example.com", MessageAction="SUPPRESS")
    idp.admin_set_user_password(UserPoolId=pool, Username="ann@example.com", Password=PASSWORD, Permanent=True)
    tokens = idp.initiate_auth(
        ClientId=app_client, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ann@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    identity_pool = identity.create_identity_pool(
        IdentityPoolName="ids", AllowUnauthenticatedIdentities=False,
        CognitoIdentityProviders=[{"ProviderName": f"cognito-idp.us-east-1.amazonaws.com/{pool}", "ClientId": app_client}],
    )["IdentityPoolId"]
    topic = sns.create_topic(Name="note-purchased")["TopicArn"]
    queue = sqs.create_queue(QueueName="notify")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    subscription = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)["SubscriptionArn"]
    message_id = sns.publish(TopicArn=topic, Message=json.dumps({"amount": 4000}))["MessageId"]
    ssm.put_parameter(Name="/dev/notes/stripe", Value="sk_test_123", Type="SecureString")
    apigw = make_client(cloud, "apigateway")
    api = apigw.create_rest_api(name="dev-notes-api")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    notes = apigw.create_resource(restApiId=api, parentId=root, pathPart="notes")["id"]
    return {
        "api": api, "api_resources": {root, notes},
        "pool": pool, "client": app_client, "sub": _sub(idp, pool), "tokens": tokens,
        "identity_pool": identity_pool, "topic": topic, "queue": queue, "subscription": subscription,
        "message_id": message_id,
    }


def _sub(idp: Any, pool: str) -> str:
    user = idp.admin_get_user(UserPoolId=pool, Username="ann@example.com")
    return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")


def kill_and_restart(cloud: LocalCloud) -> float:
    """SIGKILL the server (no chance to flush anything) and start it again; returns the start time."""
    old_pid = cloud.status().pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    return restart_killed(cloud, old_pid)


def restart_killed(cloud: LocalCloud, old_pid: int) -> float:
    """Start again a server already sent SIGKILL; returns the start time."""
    cloud.stop()  # reaps the killed process
    assert not cloud.status().running
    started = time.perf_counter()
    status = cloud.start()
    assert status.running and status.pid != old_pid
    return time.perf_counter() - started


def test_kill_9_loses_nothing_acknowledged(cloud: LocalCloud) -> None:
    before = create_everything(cloud)

    kill_and_restart(cloud)

    ddb, s3, idp = (make_client(cloud, s) for s in ("dynamodb", "s3", "cognito-idp"))
    identity, sns, sqs, ssm = (make_client(cloud, s) for s in ("cognito-identity", "sns", "sqs", "ssm"))
    items = ddb.query(
        TableName="notes", KeyConditionExpression="userId = :u", ExpressionAttributeValues={":u": {"S": "u1"}}
    )["Items"]
    assert sorted(i["body"]["S"] for i in items) == ["b0", "b1", "b2"]
    head = s3.head_object(Bucket="uploads-bucket", Key="private/u1/a b.txt")
    assert head["Metadata"] == {"owner_id": "u1"}
    assert s3.get_object(Bucket="uploads-bucket", Key="private/u1/a b.txt")["Body"].read() == b"attachment"
    assert [p["Id"] for p in idp.list_user_pools(MaxResults=10)["UserPools"]] == [before["pool"]]
    assert idp.list_user_pool_clients(UserPoolId=before["pool"], MaxResults=10)["UserPoolClients"][0]["ClientId"] == before["client"]
    assert _sub(idp, before["pool"]) == before["sub"]
    assert [p["IdentityPoolId"] for p in identity.list_identity_pools(MaxResults=10)["IdentityPools"]] == [before["identity_pool"]]
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [before["topic"]]
    assert [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]] == [before["subscription"]]
    messages = sqs.receive_message(QueueUrl=before["queue"], WaitTimeSeconds=1)["Messages"]
    assert json.loads(json.loads(messages[0]["Body"])["Message"]) == {"amount": 4000}
    assert json.loads(messages[0]["Body"])["MessageId"] == before["message_id"]
    param = ssm.get_parameter(Name="/dev/notes/stripe", WithDecryption=True)["Parameter"]
    assert param["Value"] == "sk_test_123" and param["Type"] == "SecureString"
    apigw = make_client(cloud, "apigateway")
    assert [a["id"] for a in apigw.get_rest_apis()["items"]] == [before["api"]]
    assert {r["id"] for r in apigw.get_resources(restApiId=before["api"])["items"]} == before["api_resources"]

    # The IdToken issued before the crash still verifies against the pool's JWKS after it.
    jwks = jwt.PyJWKClient(f"{cloud.endpoint}/{before['pool']}/.well-known/jwks.json")
    id_token = before["tokens"]["IdToken"]
    claims = jwt.decode(id_token, jwks.get_signing_key_from_jwt(id_token).key, algorithms=["RS256"],
                        audience=before["client"])
    assert claims["sub"] == before["sub"]
    # ... and the access token is still one the pool knows.
    assert idp.get_user(AccessToken=before["tokens"]["AccessToken"])["Username"] == before["sub"]


def test_snapshot_after_many_writes_then_kill_9(cloud: LocalCloud) -> None:
    ddb = make_client(cloud, "dynamodb")
    ddb.create_table(
        TableName="bulk", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    for n in range(300):
        ddb.put_item(TableName="bulk", Item={"k": {"S": f"{n:04d}"}, "v": {"N": str(n)}})
    # 200 writes triggered a snapshot; the journal holds only what came after it.
    assert (cloud.state_dir / "state.pickle").is_file()
    assert cloud.status().journal_entries == 301 - SNAPSHOT_EVERY

    restart_seconds = kill_and_restart(cloud)

    assert make_client(cloud, "dynamodb").describe_table(TableName="bulk")["Table"]["ItemCount"] == 300
    assert restart_seconds < 10


def test_reads_are_not_journaled(cloud: LocalCloud) -> None:
    ddb, s3 = make_client(cloud, "dynamodb"), make_client(cloud, "s3")
    ddb.create_table(
        TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="t", Item={"k": {"S": "a"}})
    s3.create_bucket(Bucket="reads-bucket")
    s3.put_object(Bucket="reads-bucket", Key="k", Body=b"x")
    written = cloud.status().journal_entries
    assert written == 4

    ddb.get_item(TableName="t", Key={"k": {"S": "a"}})
    ddb.describe_table(TableName="t")
    ddb.list_tables()
    ddb.scan(TableName="t")
    s3.get_object(Bucket="reads-bucket", Key="k")["Body"].read()
    s3.head_object(Bucket="reads-bucket", Key="k")
    s3.list_objects_v2(Bucket="reads-bucket")
    assert cloud.status().journal_entries == written

    ddb.delete_item(TableName="t", Key={"k": {"S": "a"}})
    assert cloud.status().journal_entries == written + 1


def test_reset_wipes_everything(cloud: LocalCloud) -> None:
    ddb = make_client(cloud, "dynamodb", ACCOUNT_A)
    ddb.create_table(
        TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    (cloud.state_dir / "standins" / "stripe").mkdir(parents=True)
    (cloud.state_dir / "standins" / "stripe" / "localstripe.pickle").write_bytes(b"charges")
    (cloud.state_dir / ".state.pickle.k1ll3d.tmp").write_bytes(b"half a snapshot")  # kill -9 mid-write
    cloud.reset()
    status = cloud.status()
    assert status.running and status.journal_entries == 0
    assert make_client(cloud, "dynamodb", ACCOUNT_A).list_tables()["TableNames"] == []
    assert not (cloud.state_dir / "standins").exists()  # the local stand-ins' objects (the app's Stripe's charges) go too
    assert not (cloud.state_dir / ".state.pickle.k1ll3d.tmp").exists()


def test_snapshot_plus_journal_tail_survives_kill_9(cloud: LocalCloud) -> None:
    before = create_everything(cloud)
    cloud.stop()  # a clean stop snapshots and empties the journal
    assert (cloud.state_dir / "state.pickle").is_file()
    assert cloud.status().journal_entries == 0
    cloud.start()
    sqs = make_client(cloud, "sqs")
    late = sqs.create_queue(QueueName="after-snapshot")["QueueUrl"]
    sqs.send_message(QueueUrl=late, MessageBody="late")

    kill_and_restart(cloud)

    idp, sqs = make_client(cloud, "cognito-idp"), make_client(cloud, "sqs")
    assert _sub(idp, before["pool"]) == before["sub"]
    assert idp.get_user(AccessToken=before["tokens"]["AccessToken"])["Username"] == before["sub"]
    assert sqs.receive_message(QueueUrl=late)["Messages"][0]["Body"] == "late"
    ssm = make_client(cloud, "ssm")
    assert ssm.get_parameter(Name="/dev/notes/stripe", WithDecryption=True)["Parameter"]["Value"] == "sk_test_123"
    from stagewise.cloud import sent_sms

    make_client(cloud, "sns").publish(PhoneNumber="+15555550100", Message="after")
    assert [m["message"] for m in sent_sms(cloud.endpoint)] == ["after"]


def test_ids_moto_draws_from_os_urandom_replay_the_same(cloud: LocalCloud) -> None:
    """S3 multipart upload ids and KMS key material come from os.urandom inside moto."""
    s3, kms = make_client(cloud, "s3"), make_client(cloud, "kms")
    s3.create_bucket(Bucket="multi-bucket")
    upload = s3.create_multipart_upload(Bucket="multi-bucket", Key="big")["UploadId"]
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key, Plaintext=b"sk_test_123")["CiphertextBlob"]

    kill_and_restart(cloud)

    s3, kms = make_client(cloud, "s3"), make_client(cloud, "kms")
    etag = s3.upload_part(Bucket="multi-bucket", Key="big", UploadId=upload, PartNumber=1, Body=b"part one")["ETag"]
    s3.complete_multipart_upload(
        Bucket="multi-bucket", Key="big", UploadId=upload, MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]}
    )
    assert s3.get_object(Bucket="multi-bucket", Key="big")["Body"].read() == b"part one"
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"sk_test_123"


def test_lambda_functions_do_not_stop_the_snapshot(cloud: LocalCloud) -> None:
    # GIVEN a Lambda function (moto keeps a weak ARN index and a lambda-factory dict for it)
    import io
    import zipfile

    role = make_client(cloud, "iam").create_role(
        RoleName="fn-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("index.py", "def handler(e, c):\n    return e\n")
    make_client(cloud, "lambda").create_function(
        FunctionName="fn", Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": code.getvalue()}
    )
    # WHEN the cloud stops cleanly
    cloud.stop()
    # THEN the state was snapshotted (the journal is empty) and the function is back after a start
    assert (cloud.state_dir / "state.pickle").is_file()
    assert cloud.status().journal_entries == 0
    cloud.start()
    assert make_client(cloud, "lambda").get_function(FunctionName="fn")["Configuration"]["Handler"] == "index.handler"
