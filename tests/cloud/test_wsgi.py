"""The WSGI side of the local cloud: a request off the wire becomes the environ moto's app reads."""

from __future__ import annotations

from typing import Any

from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

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

    answer = WsgiFrontEnd(app)(HttpRequest(method="GET", path="/", raw_path="/", source_ip="127.0.0.9"))
    assert (answer.status, answer.body) == (200, b"GET 127.0.0.9")
