"""A worker's botocore calls to the local cloud, sent directly (stagewise/runtime/sdk_http.py): answered as
through botocore's own urllib3 session, on one kept-alive socket, failing with the exceptions that
session raises; what it cannot send directly still goes through urllib3."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.httpsession import URLLib3Session

from stagewise.cloud import client as cloud_client
from stagewise.runtime import sdk_http
from stagewise.runtime.sdk_http import LoopbackSession
from stagewise.testing import running_cloud

ACCOUNT = "111111111111"
ONE_TRY = Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=0.5)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory) -> Iterator[object]:
    with running_cloud(tmp_path_factory.mktemp("cloud")) as running:
        yield running


def direct(client, session: URLLib3Session | None = None):
    """`client` sending through `session` (by default the runtime's, what `install()` gives every new client)."""
    client._endpoint.http_session = session or LoopbackSession(timeout=(60, 60))
    return client


class Sends:
    """Counts what goes through urllib3 and how many sockets the direct path opens."""

    def __init__(self, monkeypatch) -> None:
        self.urllib3 = 0
        self.connects = 0
        urllib3_send, connect = URLLib3Session.send, socket.create_connection

        def counted_send(session, request):
            self.urllib3 += isinstance(session, LoopbackSession)
            return urllib3_send(session, request)

        def counted_connect(*args, **kwargs):
            self.connects += 1
            return connect(*args, **kwargs)

        monkeypatch.setattr(URLLib3Session, "send", counted_send)
        monkeypatch.setattr(sdk_http.socket, "create_connection", counted_connect)


def table(ddb, name: str) -> None:
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")


def test_calls_to_the_local_cloud_are_sent_directly_and_answered_as_through_urllib3(cloud, monkeypatch):
    own = cloud_client(cloud.endpoint, account_id=ACCOUNT, region="us-east-1", service="dynamodb")
    ours = direct(cloud_client(cloud.endpoint, account_id=ACCOUNT, region="us-east-1", service="dynamodb"))
    table(own, "direct")
    sends = Sends(monkeypatch)
    ours.put_item(TableName="direct", Item={"pk": {"S": "a"}, "body": {"S": "é" * 300}})
    for _ in range(3):
        assert ours.get_item(TableName="direct", Key={"pk": {"S": "a"}})["Item"] == \
            own.get_item(TableName="direct", Key={"pk": {"S": "a"}})["Item"]
    page = ours.scan(TableName="direct")
    assert page["Count"] == 1 and page["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert page["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.0"
    with pytest.raises(ClientError) as refused:  # an error answer: its status and code, as botocore parses them
        ours.put_item(TableName="direct", Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
    assert refused.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (sends.urllib3, sends.connects) == (0, 1)  # every call on one kept-alive socket


def test_threads_sharing_a_client_each_get_their_own_answer_on_at_most_the_pool_s_sockets(cloud, monkeypatch):
    ddb = direct(cloud_client(cloud.endpoint, account_id=ACCOUNT, region="us-east-1", service="dynamodb"))
    table(ddb, "shared")
    for n in range(8):
        ddb.put_item(TableName="shared", Item={"pk": {"S": f"k{n}"}})
    sends = Sends(monkeypatch)
    wrong: list[str] = []

    def reader(n: int) -> None:
        for _ in range(15):
            item = ddb.get_item(TableName="shared", Key={"pk": {"S": f"k{n}"}})["Item"]
            if item["pk"]["S"] != f"k{n}":
                wrong.append(f"k{n} got {item}")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert sends.urllib3 == 0 and 1 <= sends.connects <= 8  # botocore's default pool: 10


def test_a_query_protocol_call_with_a_text_body_is_sent_directly_too(cloud, monkeypatch):
    sns = direct(cloud_client(cloud.endpoint, account_id=ACCOUNT, region="us-east-1", service="sns"))
    sends = Sends(monkeypatch)
    arn = sns.create_topic(Name="direct-topic")["TopicArn"]  # a form body: Action=CreateTopic&Name=…
    assert arn in [topic["TopicArn"] for topic in sns.list_topics()["Topics"]]
    assert (sends.urllib3, sends.connects) == (0, 1)


def test_streamed_answers_head_and_file_bodies_still_go_through_urllib3(cloud, monkeypatch):
    s3 = direct(cloud_client(cloud.endpoint, account_id=ACCOUNT, region="us-east-1", service="s3"))
    sends = Sends(monkeypatch)
    s3.create_bucket(Bucket="direct-bucket")
    assert s3.list_objects_v2(Bucket="direct-bucket")["KeyCount"] == 0
    assert sends.urllib3 == 0
    s3.put_object(Bucket="direct-bucket", Key="file", Body=b"a body")  # botocore sends it as a file, expecting 100
    assert s3.get_object(Bucket="direct-bucket", Key="file")["Body"].read() == b"a body"
    assert s3.head_object(Bucket="direct-bucket", Key="file")["ContentLength"] == len(b"a body")
    assert sends.urllib3 == 3  # the file body, the streamed GetObject, the HEAD


def test_an_endpoint_behind_a_proxy_setting_goes_through_urllib3(monkeypatch):
    client = direct(dynamodb_at(1), LoopbackSession(proxies={"http": "http://127.0.0.1:9"}))
    sends = Sends(monkeypatch)
    with pytest.raises(Exception):  # noqa: B017 — nothing listens on the proxy: only which path it took matters
        client.list_tables()
    assert (sends.urllib3, sends.connects) == (1, 0)


class FakeServer:
    """A loopback socket server whose connections `serve(connection)` answers, one thread each."""

    def __init__(self, serve: Callable[[socket.socket], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self._serve = serve
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()


TABLES = b'{"TableNames": []}'
ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s"
          % (len(TABLES), TABLES))


def read_request(connection: socket.socket) -> bool:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += connection.recv(65536)
    return True


def dynamodb_at(port: int, session_cls: type = LoopbackSession):
    client = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s").client(
        "dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{port}", config=ONE_TRY)
    return direct(client, session_cls(timeout=(2, 0.5)))


def test_a_socket_the_server_closed_while_idle_is_not_reused():
    closed = threading.Semaphore(0)

    def answer_once_then_close(connection: socket.socket) -> None:
        if read_request(connection):
            connection.sendall(ANSWER)
        connection.close()
        closed.release()

    with FakeServer(answer_once_then_close) as server:
        client = dynamodb_at(server.port)
        for _ in range(3):
            assert client.list_tables()["TableNames"] == []
            assert closed.acquire(timeout=5)  # closed while idle, before the next call (not racing it)
        assert server.accepted == 3


def test_an_answer_saying_connection_close_is_not_kept():
    def answer_with_close(connection: socket.socket) -> None:
        while read_request(connection):
            connection.sendall(ANSWER.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
        connection.close()

    with FakeServer(answer_with_close) as server:
        client = dynamodb_at(server.port)
        for _ in range(2):
            assert client.list_tables()["TableNames"] == []
        assert server.accepted == 2


def never_answer(connection: socket.socket) -> None:
    read_request(connection)
    connection.recv(1)  # until the client gives up


def close_unanswered(connection: socket.socket) -> None:
    read_request(connection)
    connection.close()


def half_status_line(connection: socket.socket) -> None:
    if read_request(connection):
        connection.sendall(ANSWER[:10])
    connection.close()


@pytest.mark.parametrize("serve, raised", [(None, EndpointConnectionError), (never_answer, ReadTimeoutError),
                                           (close_unanswered, ConnectionClosedError),
                                           (half_status_line, ConnectionClosedError)],
                         ids=["nothing-listening", "no-answer-in-time", "closed-unanswered", "closed-mid-status-line"])
@pytest.mark.parametrize("session_cls", [URLLib3Session, LoopbackSession], ids=["urllib3", "direct"])
def test_failures_raise_what_botocores_own_session_raises(serve, raised, session_cls):
    if serve is None:
        with socket.create_server(("127.0.0.1", 0)) as unused:
            port = unused.getsockname()[1]  # closed again: nothing listens there
        with pytest.raises(raised):
            dynamodb_at(port, session_cls).list_tables()
        return
    with FakeServer(serve) as server, pytest.raises(raised):
        dynamodb_at(server.port, session_cls).list_tables()


def test_an_answer_whose_body_is_cut_short_reads_as_through_urllib3():
    def cut_short(connection: socket.socket) -> None:
        if read_request(connection):
            connection.sendall(ANSWER[:-5])
        connection.close()

    with FakeServer(cut_short) as server:
        answers = [dynamodb_at(server.port, session_cls).list_tables() for session_cls in (URLLib3Session, LoopbackSession)]
    assert answers[0] == answers[1]
    assert "TableNames" not in answers[1]


def test_a_header_holding_a_line_break_is_refused_as_urllib3_refuses_it_and_never_written():
    def record(connection: socket.socket) -> None:
        received.append(connection.recv(65536))
        connection.close()

    received: list[bytes] = []
    with FakeServer(record) as server:
        raised = []
        for session_cls in (URLLib3Session, LoopbackSession):
            client = dynamodb_at(server.port, session_cls)
            client.meta.events.register("before-sign.dynamodb", lambda request, **kwargs: request.headers.__setitem__(
                "X-Note", "a\r\nX-Injected: 1"))
            with pytest.raises(Exception) as refused:  # noqa: B017 — compared below: the same for both sessions
                client.list_tables()
            raised.append(type(refused.value))
    assert raised[0] is raised[1]
    assert not any(b"X-Injected" in data for data in received)


def test_install_gives_every_new_client_the_direct_session(monkeypatch):
    from botocore.endpoint import EndpointCreator

    monkeypatch.setattr(EndpointCreator, "create_endpoint", EndpointCreator.create_endpoint)  # undone after the test
    sdk_http.install()
    sdk_http.install()  # twice: wrapped once
    client = boto3.session.Session(aws_access_key_id="k", aws_secret_access_key="s").client(
        "sqs", region_name="us-east-1", endpoint_url="http://127.0.0.1:1")
    assert type(client._endpoint.http_session) is LoopbackSession
    assert not hasattr(EndpointCreator.create_endpoint.__wrapped__, "__wrapped__")

