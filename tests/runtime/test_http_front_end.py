"""The local API's HTTP front end attacked over raw sockets: framing (chunked, Content-Length,
Transfer-Encoding), limits (413 before the body, 414, 431, 501), timeouts (slowloris), load (200
clients at once, the connection cap's 503), keep-alive and pipelining. Every refusal must be a status
line and a JSON body, never a silent close or a hang."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from stagewise.runtime.events import HttpRequest
from stagewise.runtime.responses import HttpResponse
from stagewise.runtime.server import HttpServer, Limits, Timeouts

pytestmark = pytest.mark.e2e

MB = 1024 * 1024


class Recorder:
    """A minimal app: records every request it is given and echoes it back as JSON."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with self.lock:
            self.requests.append(request)
        if request.path.startswith("/sleep/"):
            time.sleep(float(request.path.rsplit("/", 1)[1]))
        if request.path == "/boom":
            raise RuntimeError("boom")
        body = json.dumps({"method": request.method, "path": request.path, "raw_path": request.raw_path,
                           "raw_query": request.raw_query, "query": request.query,
                           "body": request.body.decode("latin-1"), "headers": request.headers})
        return HttpResponse(200, [("Content-Type", "application/json")], body.encode())

    def seen(self) -> list[tuple[str, str]]:
        with self.lock:
            return [(r.method, r.path) for r in self.requests]


@pytest.fixture
def app() -> Recorder:
    return Recorder()


def serve(app: Recorder, **options) -> HttpServer:
    server = HttpServer(app, port=0, **options)
    server.start()
    return server


@pytest.fixture
def server(app: Recorder) -> Iterator[HttpServer]:
    server = serve(app, timeouts=Timeouts(head=1.5, body=1.5, idle=1.5))
    try:
        yield server
    finally:
        server.stop()


def port_of(server: HttpServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def connect(server: HttpServer, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port_of(server)), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class Reader:
    """Reads responses one after another off one socket (so pipelined answers stay in order)."""

    def __init__(self, sock: socket.socket) -> None:
        self.file = sock.makefile("rb")

    def response(self) -> tuple[int, dict[str, str], bytes]:
        status_line = self.file.readline()
        if not status_line:
            raise ConnectionError("closed without a status line")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.file.read(int(headers.get("content-length", "0")))
        return status, headers, body

    def closed(self) -> bool:
        try:
            return self.file.read(1) == b""
        except ConnectionResetError:
            return True


def exchange(server: HttpServer, data: bytes, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    with connect(server, timeout) as sock:
        sock.sendall(data)
        return Reader(sock).response()


def assert_json_error(answer: tuple[int, dict[str, str], bytes], status: int) -> dict:
    got, headers, body = answer
    assert got == status, (got, body)
    assert headers["content-type"] == "application/json"
    assert headers.get("connection") == "close"
    message = json.loads(body)
    assert isinstance(message["message"], str) and message["message"]
    return message


# -- framing: chunked bodies and request smuggling ------------------------------------------------------
def chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in parts) + b"0\r\n\r\n"


def test_chunked_body_is_decoded_and_a_delete_hidden_in_it_never_runs(server, app):
    hidden = b"DELETE /notes/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    head = b"POST /notes HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    with connect(server) as sock:
        sock.sendall(head + chunked(hidden, b"tail"))
        reader = Reader(sock)
        status, _, body = reader.response()
        assert status == 200
        assert json.loads(body)["body"] == (hidden + b"tail").decode()
        sock.sendall(b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection is still in step
        assert reader.response()[0] == 200
    assert app.seen() == [("POST", "/notes"), ("GET", "/after")]


def test_transfer_encoding_with_content_length_is_400_and_nothing_behind_it_runs(server, app):
    smuggled = b"DELETE /notes/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    data = (b"POST /notes HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % len(smuggled) + smuggled + b"\r\n0\r\n\r\n")
    with connect(server) as sock:
        sock.sendall(data)
        reader = Reader(sock)
        assert_json_error(reader.response(), 400)
        assert reader.closed()
    time.sleep(0.1)
    assert app.seen() == []


@pytest.mark.parametrize("lengths", [["-1"], ["abc"], ["5, 6"], ["5", "6"], ["0x10"], ["+5"],
                                     ["99999999999999999999999999"]])
def test_bad_negative_or_conflicting_content_length_is_400(server, app, lengths):
    head = b"POST /x HTTP/1.1\r\nHost: x\r\n" + b"".join(b"Content-Length: %s\r\n" % v.encode() for v in lengths)
    assert_json_error(exchange(server, head + b"\r\nhello", timeout=3), 400)
    assert app.seen() == []


@pytest.mark.parametrize("coding", ["gzip", "gzip, chunked", "deflate, chunked"])
def test_transfer_coding_other_than_chunked_is_501(server, app, coding):
    data = f"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {coding}\r\n\r\n".encode() + chunked(b"hello")
    assert_json_error(exchange(server, data, timeout=3), 501)
    assert app.seen() == []


# -- limits ---------------------------------------------------------------------------------------------
def test_body_over_10_mb_is_413_before_a_byte_of_it_is_sent(server, app):
    with connect(server, timeout=3) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (20 * MB))
        started = time.monotonic()
        message = assert_json_error(Reader(sock).response(), 413)
    assert message == {"message": "Request Too Long"}
    assert time.monotonic() - started < 2
    assert app.seen() == []


def test_exactly_10_mb_is_delivered(server, app):
    with connect(server, timeout=10) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (10 * MB) + b"x" * (10 * MB))
        assert Reader(sock).response()[0] == 200
    assert len(app.requests[0].body) == 10 * MB


def test_chunked_body_is_413_as_soon_as_it_passes_10_mb(server, app):
    with connect(server, timeout=5) as sock:
        sock.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(11):  # no final chunk: the answer must not wait for the end of the body
            sock.sendall(b"%x\r\n%s\r\n" % (MB, b"y" * MB))
        assert_json_error(Reader(sock).response(), 413)
    assert app.seen() == []


def test_request_line_of_70_kb_is_414(server, app):
    answer = exchange(server, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_json_error(answer, 414)
    assert app.seen() == []


def test_too_long_or_too_many_header_fields_are_431(server, app):
    assert_json_error(exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20_000 + b"\r\n\r\n"), 431)
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(200))
    assert_json_error(exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"), 431)
    # a header line that never ends is refused once it passes the limit, not buffered for ever
    with connect(server) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nX-Endless: ")
        for _ in range(8):
            sock.sendall(b"z" * 8192)
        assert_json_error(Reader(sock).response(), 431)
    assert app.seen() == []


def test_limits_are_settable():
    recorder = Recorder()
    server = serve(recorder, limits=Limits(max_body=10))
    try:
        assert_json_error(exchange(server, b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"), 413)
        assert exchange(server, b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789")[0] == 200
    finally:
        server.stop()


@pytest.mark.parametrize("data, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET / HTTP/1.1\nHost: x\n\n", 400),  # bare LF
    (b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),  # obsolete line folding
    (b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", 400),
    (b"GET /\xff HTTP/1.1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),  # bad chunk size
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400),
    (b"GET / HTTP/3.0\r\n\r\n", 505),
    (b"BREW /pot HTTP/1.1\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nExpect: tea\r\n\r\nx", 417),
])
def test_malformed_requests_get_a_status_and_a_json_body(server, app, data, status):
    assert_json_error(exchange(server, data, timeout=3), status)
    assert app.seen() == []


def test_client_closing_mid_request_gets_400(server, app):
    with connect(server, timeout=3) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        sock.shutdown(socket.SHUT_WR)
        assert_json_error(Reader(sock).response(), 400)
    assert app.seen() == []


# -- timeouts -------------------------------------------------------------------------------------------
def test_slowloris_is_closed_with_408_while_others_are_served(server, app):
    with connect(server, timeout=5) as slow:
        slow.sendall(b"GET /slow HTTP/1.1\r\n")
        started = time.monotonic()
        served_meanwhile = []
        for byte in b"Host: localhost\r\nX-Slow: " + b"a" * 50:  # one header byte at a time, until answered
            slow.send(bytes([byte]))
            if not served_meanwhile:
                served_meanwhile.append(exchange(server, b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n")[0])
            if select.select([slow], [], [], 0.1)[0] or time.monotonic() - started > 4:
                break
        message = assert_json_error(Reader(slow).response(), 408)
        assert message == {"message": "Request Timeout"}
        assert time.monotonic() - started < 3.5  # head timeout 1.5 s (+ the 0.25 s sweep)
    assert served_meanwhile == [200]
    assert app.seen() == [("GET", "/other")]


def test_slow_body_is_closed_with_408(server, app):
    with connect(server, timeout=5) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        started = time.monotonic()
        assert_json_error(Reader(sock).response(), 408)
        assert time.monotonic() - started < 3.5
    assert app.seen() == []


def test_silent_connection_and_idle_keep_alive_are_closed(server, app):
    with connect(server, timeout=5) as silent:
        started = time.monotonic()
        assert Reader(silent).closed()  # nothing was in progress: closed without an answer
        assert time.monotonic() - started < 3.5
    with connect(server, timeout=5) as idle:
        idle.sendall(b"GET /once HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = Reader(idle)
        assert reader.response()[0] == 200
        started = time.monotonic()
        assert reader.closed()
        assert 1.0 < time.monotonic() - started < 3.5


def test_default_timeouts():
    assert (Timeouts().head, Timeouts().idle) == (10.0, 60.0)


# -- load -----------------------------------------------------------------------------------------------
def test_200_clients_connecting_at_once_are_all_answered(app):
    server = serve(app)
    try:
        barrier = threading.Barrier(200)
        statuses: list[int | str] = []

        def client(index: int) -> None:
            try:
                barrier.wait(timeout=10)
                statuses.append(exchange(server, b"GET /c/%d HTTP/1.1\r\nHost: x\r\n\r\n" % index, timeout=15)[0])
            except Exception as exc:  # noqa: BLE001 — counted below
                statuses.append(type(exc).__name__)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(200)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert statuses.count(200) == 200, sorted(set(map(str, statuses)))
    finally:
        server.stop()


def test_connections_past_the_cap_get_503(app):
    server = serve(app, max_connections=5)
    held = [connect(server) for _ in range(5)]
    try:
        for index, sock in enumerate(held):
            sock.sendall(b"GET /held/%d HTTP/1.1\r\nHost: x\r\n\r\n" % index)
            assert Reader(sock).response()[0] == 200
        with connect(server) as extra:
            message = assert_json_error(Reader(extra).response(), 503)
            assert "5" in message["message"]
        held.pop().close()
        time.sleep(0.2)
        assert exchange(server, b"GET /again HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200
    finally:
        for sock in held:
            sock.close()
        server.stop()


def test_default_cap_is_well_above_200(app):
    server = HttpServer(app, port=0)
    try:
        assert server.max_connections >= 1000 and server.backlog >= 1024
    finally:
        server.stop()


def test_a_slow_request_does_not_hold_up_another_client(server, app):
    with connect(server) as slow:
        slow.sendall(b"GET /sleep/1.5 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.05)
        started = time.monotonic()
        assert exchange(server, b"GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200
        assert time.monotonic() - started < 0.5
        assert Reader(slow).response()[0] == 200


# -- keep-alive and pipelining --------------------------------------------------------------------------
def test_keep_alive_serves_several_requests_on_one_connection(server, app):
    with connect(server) as sock:
        reader = Reader(sock)
        for index in range(5):
            sock.sendall(b"POST /k/%d HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi" % index)
            status, headers, body = reader.response()
            assert status == 200 and "connection" not in headers
            assert json.loads(body)["body"] == "hi"
    assert app.seen() == [("POST", f"/k/{i}") for i in range(5)]


def test_pipelined_requests_are_answered_in_order(server, app):
    pipeline = (b"GET /sleep/0.2 HTTP/1.1\r\nHost: x\r\n\r\n"
                b"POST /two HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(b"2nd")
                + b"GET /three?x=3 HTTP/1.1\r\nHost: x\r\n\r\n"
                b"GET /four HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    with connect(server) as sock:
        sock.sendall(pipeline)
        reader = Reader(sock)
        answers = [json.loads(reader.response()[2]) for _ in range(4)]
        assert reader.closed()
    assert [a["path"] for a in answers] == ["/sleep/0.2", "/two", "/three", "/four"]
    assert answers[1]["body"] == "2nd" and answers[2]["query"] == [["x", "3"]]


def test_expect_100_continue(server, app):
    with connect(server) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        reader = Reader(sock)
        assert reader.file.readline() == b"HTTP/1.1 100 Continue\r\n" and reader.file.readline() == b"\r\n"
        sock.sendall(b"hello")
        status, _, body = reader.response()
    assert status == 200 and json.loads(body)["body"] == "hello"


def test_http_1_0_closes_after_the_answer(server, app):
    with connect(server) as sock:
        sock.sendall(b"GET /old HTTP/1.0\r\n\r\n")
        reader = Reader(sock)
        status, headers, _ = reader.response()
        assert status == 200 and headers["connection"] == "close"
        assert reader.closed()


# -- what the app is given, and what it answers -----------------------------------------------------------
def test_request_keeps_raw_target_decoded_path_query_and_repeated_headers(server, app):
    data = (b"GET /a%2Fb/%C3%A9?x=%20y&x=2&flag HTTP/1.1\r\nHost: x\r\nX-Rep: 1\r\nX-Rep: 2\r\n\r\n")
    answer = json.loads(exchange(server, data)[2])
    assert answer["path"] == "/a/b/é" and answer["raw_path"] == "/a%2Fb/%C3%A9"
    assert answer["raw_query"] == "x=%20y&x=2&flag"
    assert answer["query"] == [["x", " y"], ["x", "2"], ["flag", ""]]
    assert [h for h in answer["headers"] if h[0] == "X-Rep"] == [["X-Rep", "1"], ["X-Rep", "2"]]
    assert app.requests[0].source_ip == "127.0.0.1"


def test_an_app_exception_is_a_json_500_and_the_connection_lives_on(server, app):
    with connect(server) as sock:
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
        reader = Reader(sock)
        status, headers, body = reader.response()
        assert status == 500 and headers["content-type"] == "application/json" and json.loads(body)["message"]
        sock.sendall(b"GET /fine HTTP/1.1\r\nHost: x\r\n\r\n")
        assert reader.response()[0] == 200


def test_framing_headers_of_the_answer_are_the_servers():
    def app(request: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [("Content-Length", "999"), ("Transfer-Encoding", "chunked"),
                                  ("X-Split", "a\r\nSet-Cookie: evil=1"), ("X-Fine", "yes")], b"ok")

    server = serve(app)
    try:
        status, headers, body = exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    finally:
        server.stop()
    assert (status, body, headers["content-length"], headers["x-fine"]) == (200, b"ok", "2", "yes")
    assert "transfer-encoding" not in headers and "set-cookie" not in headers and "x-split" not in headers


def test_an_async_app_is_awaited_on_the_loop():
    async def app(request: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [], f"async {request.path}".encode())

    server = serve(app)
    try:
        assert exchange(server, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")[2] == b"async /a"
    finally:
        server.stop()


def test_port_in_use_raises_oserror(app):
    server = serve(app)
    try:
        with pytest.raises(OSError):
            HttpServer(app, port=port_of(server))
    finally:
        server.stop()


def test_chunked_body_reaches_a_function_through_the_runtime(runtime):
    port = int(runtime.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + chunked(b'{"hello":', b' "chunks"}'))
        status, _, body = Reader(sock).response()
    assert status == 200
    assert json.loads(json.loads(body)["event"]["body"]) == {"hello": "chunks"}


def test_iam_verifies_sigv4_over_the_target_exactly_as_sent():
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from stagewise import sigv4
    from stagewise.runtime.authorizers.iam import _incoming
    from stagewise.runtime.server import RequestParser

    # a path with an encoded slash and a query in the client's own order and encoding
    url = "http://127.0.0.1:3000/files/a%2Fb%20c?z=1&a=%7Etilde&a=2"
    signed = AWSRequest(method="GET", url=url, headers={"Host": "127.0.0.1:3000"})
    SigV4Auth(Credentials("AKIDLOCAL", "secret"), "execute-api", "us-east-1").add_auth(signed)
    head = "".join(f"{name}: {value}\r\n" for name, value in signed.headers.items())
    parser = RequestParser()
    parser.feed(f"GET {url[len('http://127.0.0.1:3000'):]} HTTP/1.1\r\n{head}\r\n".encode())
    request, _ = parser.requests.popleft()
    assert (request.path, request.raw_path) == ("/files/a/b c", "/files/a%2Fb%20c")
    found = sigv4.verify(_incoming(request), service="execute-api", region="us-east-1",
                         secret_for=lambda key, token: "secret")
    assert found.access_key_id == "AKIDLOCAL"
    request.raw_path = request.raw_query = ""  # rebuilt from the decoded path, the encoded slash is lost
    with pytest.raises(sigv4.SignatureError):
        sigv4.verify(_incoming(request), service="execute-api", region="us-east-1",
                     secret_for=lambda key, token: "secret")


def test_the_answer_to_head_has_the_apps_content_length_and_no_body() -> None:
    from stagewise.runtime.server import encode_response

    answer = HttpResponse(200, [("Content-Length", "1234"), ("ETag", '"e"')], b"")
    assert encode_response(answer, head=True) == b'HTTP/1.1 200 OK\r\nETag: "e"\r\nContent-Length: 1234\r\n\r\n'
    # without a length from the app, the body's; a body the app still sent is not written
    assert encode_response(HttpResponse(200, [], b"abc"), head=True).endswith(b"Content-Length: 3\r\n\r\n")
    # a GET keeps the server's own framing: the app's Content-Length is replaced by the body's
    assert encode_response(HttpResponse(200, [("Content-Length", "1234")], b"ab")).endswith(b"Content-Length: 2\r\n\r\nab")
