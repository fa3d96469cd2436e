"""The local S3 as AWS enforces it for a Cognito identity and for presigned URLs: an identity reads
and writes only under `private/<its identity id>/`; other services refuse identity credentials;
expired, tampered or re-typed presigned URLs are refused."""

from __future__ import annotations

import time
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from stagewise.cloud import LocalCloud
from tests.cloud.conftest import ACCOUNT_B, REGION, make_client
from tests.cloud.identity_pool import deploy_pool, logins, token_for, unsigned


@pytest.fixture
def pool(cloud: LocalCloud) -> dict[str, str]:
    return deploy_pool(cloud)


def identity_s3(cloud: LocalCloud, pool: dict[str, str], email: str, service: str = "s3") -> tuple[Any, str]:
    identity = unsigned(cloud)
    ann = logins(pool, token_for(cloud, pool, email))
    identity_id = identity.get_id(IdentityPoolId=pool["IdentityPool"], Logins=ann)["IdentityId"]
    creds = identity.get_credentials_for_identity(IdentityId=identity_id, Logins=ann)["Credentials"]
    client = boto3.session.Session().client(
        service, region_name=REGION, endpoint_url=cloud.endpoint, aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretKey"], aws_session_token=creds["SessionToken"],
        config=Config(signature_version="s3v4", retries={"max_attempts": 1}))
    return client, identity_id


def refused(call: Any, status: int = 403, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    return caught.value.response["Error"]["Code"]


def test_an_identity_uses_only_its_own_private_prefix(cloud: LocalCloud, pool) -> None:
    ann, ann_id = identity_s3(cloud, pool, "ann@example.com")
    bob, bob_id = identity_s3(cloud, pool, "bob@example.com")
    ann.put_object(Bucket="ids-uploads", Key=f"private/{ann_id}/photo.png", Body=b"png")
    assert ann.get_object(Bucket="ids-uploads", Key=f"private/{ann_id}/photo.png")["Body"].read() == b"png"
    assert refused(bob.get_object, Bucket="ids-uploads", Key=f"private/{ann_id}/photo.png") == "AccessDenied"
    assert refused(bob.put_object, Bucket="ids-uploads", Key=f"private/{ann_id}/evil.png", Body=b"x") == "AccessDenied"
    assert refused(ann.put_object, Bucket="ids-uploads", Key="public/x.png", Body=b"x") == "AccessDenied"
    assert refused(ann.list_objects_v2, Bucket="ids-uploads") == "AccessDenied"
    assert refused(ann.list_buckets) == "AccessDenied"
    assert refused(ann.put_object_acl, Bucket="ids-uploads", Key=f"private/{ann_id}/photo.png",
                   ACL="public-read") == "AccessDenied"
    ann.delete_object(Bucket="ids-uploads", Key=f"private/{ann_id}/photo.png")
    owner = make_client(cloud, "s3", ACCOUNT_B)
    assert owner.list_objects_v2(Bucket="ids-uploads").get("KeyCount") == 0 and bob_id != ann_id


def test_tampered_identity_credentials_and_other_services_are_refused(cloud: LocalCloud, pool) -> None:
    ann, ann_id = identity_s3(cloud, pool, "ann@example.com")
    creds = ann._request_signer._credentials
    forged = boto3.session.Session().client(
        "s3", region_name=REGION, endpoint_url=cloud.endpoint, aws_access_key_id=creds.access_key,
        aws_secret_access_key="guessed" * 5, aws_session_token=creds.token, config=Config(signature_version="s3v4"))
    assert refused(forged.get_object, Bucket="ids-uploads", Key=f"private/{ann_id}/x") == "SignatureDoesNotMatch"
    altered = boto3.session.Session().client(
        "s3", region_name=REGION, endpoint_url=cloud.endpoint, aws_access_key_id=creds.access_key,
        aws_secret_access_key=creds.secret_key, aws_session_token=creds.token[:-3] + "abc",
        config=Config(signature_version="s3v4"))
    assert refused(altered.get_object, 400, Bucket="ids-uploads", Key=f"private/{ann_id}/x") == "InvalidToken"
    dynamodb, _ = identity_s3(cloud, pool, "ann@example.com", service="dynamodb")
    with pytest.raises(ClientError) as caught:
        dynamodb.list_tables()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_presigned_urls_expire_and_cannot_be_altered_or_retyped(cloud: LocalCloud) -> None:
    s3 = make_client(cloud, "s3")
    s3.create_bucket(Bucket="presigned")
    s3.put_object(Bucket="presigned", Key="a.txt", Body=b"hello")
    signer = boto3.session.Session().client("s3", region_name=REGION, endpoint_url=cloud.endpoint,
                                            config=Config(signature_version="s3v4"),
                                            **{k.lower(): v for k, v in _keys(s3).items()})
    good = signer.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "a.txt"}, ExpiresIn=60)
    assert httpx.get(good).text == "hello"
    assert httpx.get(good.replace("a.txt", "b.txt")).status_code == 403  # another key, same signature
    short = signer.generate_presigned_url("get_object", Params={"Bucket": "presigned", "Key": "a.txt"}, ExpiresIn=1)
    time.sleep(1.5)
    expired = httpx.get(short)
    assert expired.status_code == 403 and "Request has expired" in expired.text
    put = signer.generate_presigned_url("put_object", ExpiresIn=60,
                                        Params={"Bucket": "presigned", "Key": "up.png", "ContentType": "image/png"})
    assert httpx.put(put, content=b"png", headers={"Content-Type": "image/png"}).status_code == 200
    retyped = httpx.put(put, content=b"<html>", headers={"Content-Type": "text/html"})
    assert retyped.status_code == 403 and "SignatureDoesNotMatch" in retyped.text


def _keys(client: Any) -> dict[str, str]:
    creds = client._request_signer._credentials
    return {"AWS_ACCESS_KEY_ID": creds.access_key, "AWS_SECRET_ACCESS_KEY": creds.secret_key,
            "AWS_SESSION_TOKEN": creds.token}


def raw(cloud: LocalCloud, headers: dict[str, str], body: bytes = b"{}") -> httpx.Response:
    return httpx.post(cloud.endpoint, content=body, headers={
        "X-Amz-Target": "DynamoDB_20120810.Scan", "Content-Type": "application/x-amz-json-1.0", **headers})


def test_every_call_must_be_signed_with_credentials_the_cloud_issued(cloud: LocalCloud) -> None:
    dynamodb = make_client(cloud, "dynamodb")
    dynamodb.create_table(TableName="notes", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          BillingMode="PAY_PER_REQUEST")
    dynamodb.put_item(TableName="notes", Item={"id": {"S": "secret note"}})
    scan = b'{"TableName": "notes"}'
    unsigned = raw(cloud, {}, scan)
    assert unsigned.status_code == 403 and unsigned.json()["__type"] == "MissingAuthenticationTokenException"
    garbage = raw(cloud, {"Authorization": "garbage"}, scan)
    assert garbage.status_code == 400 and "secret note" not in garbage.text
    now = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    fake_key = f"AWS4-HMAC-SHA256 Credential=AKIAFAKEFAKEFAKEFAKE/{now[:8]}/us-east-1/dynamodb/aws4_request, " \
               "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
    assert raw(cloud, {"Authorization": fake_key, "X-Amz-Date": now}, scan).json()["__type"] == \
        "UnrecognizedClientException"
    wrong_secret = boto3.session.Session().client(
        "dynamodb", region_name=REGION, endpoint_url=cloud.endpoint, aws_access_key_id="LKIA111111111111LOCL",
        aws_secret_access_key="not-the-secret", config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as caught:
        wrong_secret.scan(TableName="notes")
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert dynamodb.scan(TableName="notes")["Count"] == 1  # the cloud's own keys still work


def test_keys_moto_issued_work_until_their_session_expires(cloud: LocalCloud) -> None:
    iam, sts = make_client(cloud, "iam"), make_client(cloud, "sts")
    role = iam.create_role(RoleName="deployer", AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    session = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="ci", DurationSeconds=900)["Credentials"]
    assumed = boto3.session.Session().client(
        "s3", region_name=REGION, endpoint_url=cloud.endpoint, aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"], aws_session_token=session["SessionToken"])
    assert "Buckets" in assumed.list_buckets()
    wrong_token = boto3.session.Session().client(
        "s3", region_name=REGION, endpoint_url=cloud.endpoint, aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"], aws_session_token="forged")
    assert refused(wrong_token.list_buckets, 400) == "InvalidToken"
