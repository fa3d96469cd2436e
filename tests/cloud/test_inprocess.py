"""In-process dispatch (the local CloudFormation's deploys): a prepared boto3 request becomes the
same WSGI environ the HTTP front end builds for it (`cloud/wsgi.py`), and the app's answer goes back to botocore unchanged."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

from stagewise.cloud.inprocess import in_process


def s3() -> Any:
    return boto3.session.Session().client("s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:4566",
                                          aws_access_key_id="k", aws_secret_access_key="s")


def test_a_put_becomes_the_environ_the_http_front_end_would_make() -> None:
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ)
        start_response("200 OK", [("ETag", '"abc"'), ("Content-Length", "0")])
        return [b""]

    client = in_process(s3(), app)
    answer = client.put_object(Bucket="b", Key="a dir/é+1.json", Body=b"{}", Metadata={"a_b": "1"})
    assert answer["ETag"] == '"abc"'
    environ = seen[0]
    assert environ["REQUEST_METHOD"] == "PUT" and environ["HTTP_HOST"] == "127.0.0.1:4566"
    assert environ["RAW_URI"] == "/b/a%20dir/%C3%A9%2B1.json"  # moto matches S3 keys on the raw path
    assert environ["PATH_INFO"] == "/b/a dir/é+1.json".encode().decode("latin-1")  # as PEP 3333 decodes it
    assert environ["wsgi.input"].read() == b"{}" and environ["CONTENT_LENGTH"] == "2"
    assert environ["HTTP_X_AMZ_META_A_B"] == "1"
    assert environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] == {"HTTP_X_AMZ_META_A_B": "x-amz-meta-a_b"}
    assert environ["HTTP_AUTHORIZATION"].startswith("AWS4-HMAC-SHA256 Credential=k/")


def test_an_error_answer_reaches_the_caller_as_the_service_error() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("404 Not Found", [("Content-Type", "application/xml")])
        return [b"<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>"]

    client = in_process(s3(), app)
    with pytest.raises(client.exceptions.NoSuchKey) as caught:
        client.get_object(Bucket="b", Key="k")
    assert caught.value.response["Error"]["Message"] == "gone"
