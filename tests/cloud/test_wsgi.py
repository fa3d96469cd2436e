"""The WSGI side of the local cloud: a request off the wire becomes the environ moto's app reads."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

from stagewise.cloud.app import DurableApp
from stagewise.cloud.backend_lock import BackendLock
from stagewise.cloud.wsgi import WsgiFrontEnd, call, environ_for
from stagewise.runtime.events import HttpRequest


def test_the_environ_keeps_the_raw_target_and_decodes_path_info() -> None:
    environ = environ_for("PUT", "/b/a%20dir/%C3%A9%2B1.json", "x-id=PutObject",
                          [("Host", "127.0.0.1:4566"), ("x-amz-meta-a_b", "1"), ("Content-Type", "text/plain")], b"{}")
    assert environ["RAW_URI"] == "/b/a%20dir/%C3%A9%2B1.json?x-id=PutObject"
    assert environ["PATH_INFO"] == "/b/a dir/é+1.json".encode().decode("latin-1")  # as PEP 3333 decodes it
    assert environ["QUERY_STRING"] == "x-id=PutObject"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "4566")
    assert environ["CONTENT_TYPE"] == "text/plain" and "HTTP_CONTENT_TYPE" not in environ
    assert environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] == {"HTTP_X_AMZ_META_A_B": "x-amz-meta-a_b"}


def test_framing_headers_are_the_front_ends_and_repeated_fields_are_joined() -> None:
    environ = environ_for("POST", "/", "", [("Transfer-Encoding", "chunked"), ("Content-Length", "99"),
                                           ("X-Many", "1"), ("x-many", "2")], b"abc")
    assert "HTTP_TRANSFER_ENCODING" not in environ  # the body arrives de-chunked, its length known
    assert environ["CONTENT_LENGTH"] == "3" and environ["wsgi.input"].read() == b"abc"
    assert environ["HTTP_X_MANY"] == "1, 2"


def test_call_collects_what_the_app_writes_returns_and_closes_its_result() -> None:
    closed = []

    class Result(list):
        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("201 Created", [("X-A", "1")])
        write(b"early ")
        return Result([b"late"])

    answer = call(app, environ_for("GET", "/", "", [], b""))
    assert (answer.code, answer.status, answer.headers, answer.body) == (201, "201 Created", [("X-A", "1")], b"early late")
    assert closed == [True]


def test_the_front_end_answers_an_http_request_from_the_app() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["REQUEST_METHOD"].encode(), b" ", environ["REMOTE_ADDR"].encode()]

    answer = asyncio.run(WsgiFrontEnd(app)(HttpRequest(method="GET", path="/", raw_path="/", source_ip="127.0.0.9")))
    assert (answer.status, answer.body) == (200, b"GET 127.0.0.9")


def _request(method: str, body: bytes = b"") -> HttpRequest:
    return HttpRequest(method=method, path="/", raw_path="/", body=body)


def _locking_app(lock: BackendLock, seen: list[tuple[str, int]]) -> Any:
    """A WSGI app behind the backend lock that echoes the body and notes which thread answered."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read()
        with lock:
            seen.append((environ["REQUEST_METHOD"], threading.get_ident()))
        start_response("200 OK", [])
        return [body]

    return app


def test_a_request_at_once_runs_on_the_loop_and_the_others_in_a_thread() -> None:
    seen: list[tuple[str, int]] = []
    front = WsgiFrontEnd(_locking_app(BackendLock(), seen), at_once=lambda environ: environ["REQUEST_METHOD"] == "GET")

    async def both() -> int:
        assert (await front(_request("GET", b"r"))).body == b"r"
        assert (await front(_request("POST", b"w"))).body == b"w"
        return threading.get_ident()

    loop_thread = asyncio.run(both())
    assert seen[0] == ("GET", loop_thread)
    assert seen[1][0] == "POST" and seen[1][1] != loop_thread


def test_a_read_meeting_the_lock_held_elsewhere_moves_to_a_thread_and_the_loop_runs_on() -> None:
    lock, seen = BackendLock(), []
    front = WsgiFrontEnd(_locking_app(lock, seen), at_once=lambda environ: True)
    held = threading.Event()

    def hold_a_while() -> None:
        with lock:
            held.set()
            time.sleep(0.5)

    async def read_while_held() -> tuple[bytes, float, int]:
        holder = threading.Thread(target=hold_a_while)
        holder.start()
        held.wait()
        began = time.perf_counter()
        answer = asyncio.ensure_future(front(_request("GET", b"the body")))
        await asyncio.sleep(0.05)  # runs only if the read did not block the loop
        ticked = time.perf_counter() - began
        response = await answer
        holder.join()
        return response.body, ticked, threading.get_ident()

    body, ticked, loop_thread = asyncio.run(read_while_held())
    assert ticked < 0.3  # the loop went on while the lock was held (a blocking read would take 0.5 s)
    assert body == b"the body"  # started over with the whole request, in a thread, once the lock was free
    assert seen[0][0] == "GET" and seen[0][1] != loop_thread


def _sent(target: str | None = None, *, method: str = "POST", query: str = "", body: bytes = b"",
          authorization: str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb/aws4_request",
          content_type: str = "application/x-amz-json-1.0") -> dict[str, Any]:
    headers = [("Host", "127.0.0.1:4566"), ("Authorization", authorization), ("Content-Type", content_type)]
    if target:
        headers.append(("X-Amz-Target", target))
    return environ_for(method, "/", query, headers, body)


def test_the_cloud_answers_at_once_only_the_named_reads_moto_answers_from_memory() -> None:
    at_once = DurableApp.answers_at_once
    assert at_once(_sent("DynamoDB_20120810.GetItem"))
    assert at_once(_sent("DynamoDB_20120810.Query"))
    iam = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/iam/aws4_request"
    assert at_once(_sent(body=b"Action=GetRolePolicy&RoleName=r", authorization=iam,
                         content_type="application/x-www-form-urlencoded"))
    assert not at_once(_sent("DynamoDB_20120810.PutItem"))  # a write: journaled and fsynced
    assert not at_once(_sent("AmazonSQS.ReceiveMessage"))  # a long poll sleeps
    assert not at_once(_sent("AWSCognitoIdentityService.GetId"))  # records an identity
    assert not at_once(_sent("AWSCognitoIdentityService.GetIdentityPoolRoles"))  # reads stack states
    cfn = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/cloudformation/aws4_request"
    assert not at_once(_sent(body=b"Action=DescribeStacks", authorization=cfn,
                             content_type="application/x-www-form-urlencoded"))  # reads stack files
    assert not at_once(_sent(method="GET", authorization=iam.replace("iam", "s3")))  # S3: may stream an object
