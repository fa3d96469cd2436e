"""SigV4 verification against requests signed by botocore's own signer, as a client sends them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from stagewise.sigv4 import Incoming, SignatureError, verify

SECRET = "s3cr3t/key+material"
KEYS = {"AKIDLOCAL": (SECRET, None), "ASIATEMP": (SECRET, "token-1")}


def secret_for(key_id: str, token: str | None) -> str:
    if key_id not in KEYS or KEYS[key_id][1] != token:
        raise SignatureError("The security token included in the request is invalid.",
                             kind="UnrecognizedClientException")
    return KEYS[key_id][0]


def signed(method: str = "POST", path: str = "/dev/notes/a%20b", query: str = "x=1&a=2", body: bytes = b'{"a":1}',
           *, key: str = "AKIDLOCAL", token: str | None = None, region: str = "us-east-1",
           service: str = "execute-api", secret: str = SECRET, headers: dict | None = None) -> Incoming:
    url = f"http://127.0.0.1:3000{path}" + (f"?{query}" if query else "")
    request = AWSRequest(method=method, url=url, data=body,
                         headers={"Content-Type": "application/json", **(headers or {})})
    SigV4Auth(Credentials(key, secret, token), service, region).add_auth(request)
    prepared = request.prepare()
    sent = {"Host": "127.0.0.1:3000", **dict(prepared.headers)}
    return Incoming(method, path, query, sent, body)


def check(request: Incoming, **kwargs) -> str:
    with pytest.raises(SignatureError) as caught:
        verify(request, service="execute-api", region="us-east-1", secret_for=secret_for, **kwargs)
    return caught.value.message


def test_a_botocore_signed_request_verifies_with_its_key_and_token() -> None:
    assert verify(signed(), service="execute-api", region="us-east-1", secret_for=secret_for).access_key_id == "AKIDLOCAL"
    who = verify(signed(key="ASIATEMP", token="token-1", method="GET", body=b""), service="execute-api",
                 region="us-east-1", secret_for=secret_for)
    assert (who.access_key_id, who.session_token) == ("ASIATEMP", "token-1")


def test_every_tampering_is_refused_with_awss_message() -> None:
    good = signed()
    mismatch = "The request signature we calculated does not match"
    assert check(Incoming(good.method, good.raw_path, good.raw_query, good.headers, b'{"a":2}')).startswith(mismatch)
    assert check(Incoming("PUT", good.raw_path, good.raw_query, good.headers, good.body)).startswith(mismatch)
    assert check(Incoming(good.method, "/dev/other", good.raw_query, good.headers, good.body)).startswith(mismatch)
    assert check(Incoming(good.method, good.raw_path, "x=2&a=2", good.headers, good.body)).startswith(mismatch)
    assert check(signed(secret="wrong")).startswith(mismatch)
    assert check(signed(key="ASIATEMP", token="token-2")) == "The security token included in the request is invalid."


def test_scope_clock_and_header_errors() -> None:
    assert check(Incoming("GET", "/", "", {}, b"")) == "Missing Authentication Token"
    assert check(signed(region="eu-west-1")) == "Credential should be scoped to a valid region, not 'eu-west-1'. "
    assert check(signed(service="s3")) == "Credential should be scoped to correct service: 'execute-api'. "
    later = datetime.now(UTC) + timedelta(minutes=6)
    assert check(signed(), now=later).startswith("Signature expired: ")
    assert check(signed(), now=later - timedelta(minutes=12)).startswith("Signature not yet current: ")
    malformed = Incoming("GET", "/", "", {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/x"}, b"")
    assert "requires 'Signature' parameter" in check(malformed)


def test_only_the_signed_headers_count_whatever_their_case() -> None:
    good = signed(headers={"X-Custom": "v1"})
    assert "x-custom" in good.headers["Authorization"]  # botocore signs every header it is given
    lowered = {name.lower(): value for name, value in good.headers.items()}
    assert verify(Incoming(good.method, good.raw_path, good.raw_query, lowered, good.body),
                  service="execute-api", region="us-east-1", secret_for=secret_for).access_key_id == "AKIDLOCAL"
    extra = {**good.headers, "X-Added-Later": "not signed"}
    assert verify(Incoming(good.method, good.raw_path, good.raw_query, extra, good.body),
                  service="execute-api", region="us-east-1", secret_for=secret_for).access_key_id == "AKIDLOCAL"
    changed = {**good.headers, "X-Custom": "v2"}
    assert check(Incoming(good.method, good.raw_path, good.raw_query, changed, good.body)).startswith(
        "The request signature we calculated does not match")


SHAPES = {
    "path to normalise": dict(path="/dev/a/./b//c%2Fd/%E2%9C%93", query=""),
    "repeated and unsorted query keys": dict(query="b=2&a=3&a=1&empty="),
    "header with runs of spaces": dict(headers={"X-Spaced": "  a   b  c "}),
    "no body": dict(method="GET", body=b""),
    "binary body": dict(body=bytes(range(256))),
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES)
def test_botocore_signed_shapes_verify_and_a_changed_body_does_not(shape: dict) -> None:
    good = signed(**shape)
    assert verify(good, service="execute-api", region="us-east-1", secret_for=secret_for).access_key_id == "AKIDLOCAL"
    assert check(Incoming(good.method, good.raw_path, good.raw_query, good.headers, good.body + b"x")).startswith(
        "The request signature we calculated does not match")


def test_an_s3_request_signs_its_path_as_sent_and_its_payload_by_its_header() -> None:
    body = b"object bytes"
    url = "http://127.0.0.1:3000/bucket/a//b/./c.txt"
    request = AWSRequest(method="PUT", url=url, data=body)
    S3SigV4Auth(Credentials("AKIDLOCAL", SECRET), "s3", "us-east-1").add_auth(request)
    sent = {"Host": "127.0.0.1:3000", **dict(request.prepare().headers)}
    assert sent["X-Amz-Content-SHA256"] == hashlib.sha256(body).hexdigest()
    good = Incoming("PUT", "/bucket/a//b/./c.txt", "", sent, body)
    assert verify(good, service="s3", region="us-east-1", secret_for=secret_for).service == "s3"
    normalised = Incoming("PUT", "/bucket/a/b/c.txt", "", sent, body)
    with pytest.raises(SignatureError, match="does not match"):
        verify(normalised, service="s3", region="us-east-1", secret_for=secret_for)
    claimed = {**sent, "X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()}
    with pytest.raises(SignatureError, match="does not match"):
        verify(Incoming("PUT", good.raw_path, "", claimed, body), service="s3", region="us-east-1",
               secret_for=secret_for)


@pytest.mark.parametrize("stamp", ["20261301T000000Z", "2026121T000000Z", "20261201T000000", "20261201 000000Z", ""])
def test_a_malformed_amz_date_is_awss_error_not_a_crash(stamp: str) -> None:
    good = signed()
    headers = {**good.headers, "X-Amz-Date": stamp}
    assert "requires existence of either a 'X-Amz-Date'" in check(
        Incoming(good.method, good.raw_path, good.raw_query, headers, good.body))
