"""The runtime over real HTTP: workers, API Gateway errors, isolation, timeouts, concurrency."""

import base64
import json
import statistics
import threading
import time

import httpx
import pytest

from tests.runtime.conftest import start_runtime
from tests.runtime.stacks import function_arn

pytestmark = pytest.mark.e2e


def eventually(check, limit: float = 3.0) -> bool:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_echo_through_a_worker(client, logs):
    response = client.post("/echo?q=1", json={"hello": "world"}, headers={"X-Test": "yes"})
    assert response.status_code == 200
    data = response.json()
    event, context = data["event"], data["context"]
    assert event["resource"] == "/echo" and event["httpMethod"] == "POST"
    assert json.loads(event["body"]) == {"hello": "world"}
    assert event["headers"]["X-Test"] == "yes" and event["queryStringParameters"] == {"q": "1"}
    assert event["requestContext"]["stage"] == "dev"
    assert event["stageVariables"] == {"v": "1"}
    assert response.headers["x-amzn-RequestId"] == context["aws_request_id"] == event["requestContext"]["requestId"]
    assert context["function_name"] == "dev-t-Echo"
    assert context["invoked_function_arn"] == function_arn("dev-t-Echo")
    assert context["memory_limit_in_mb"] == "256" and context["function_version"] == "$LATEST"
    assert context["log_group_name"] == "/aws/lambda/dev-t-Echo"
    assert 0 < context["remaining_ms"] <= 3000
    root = event["headers"]["X-Amzn-Trace-Id"]
    assert data["trace"].startswith(root + ";Parent=") and data["trace"].endswith(";Sampled=0")
    assert data["sys_path"][0].endswith("services/echo") and data["cwd"].endswith("services/echo")
    # The worker's output is forwarded by a reader thread: it may land just after the response.
    assert eventually(lambda: any("[dev-t-Echo] echo handler says hello on stdout" in line for line in logs))
    assert eventually(lambda: any("cold start" in line for line in logs))


def test_env_isolation(client):
    own = client.get("/env").json()
    other = client.get("/other").json()["env"]
    assert own["ENV_ONLY"] == "a" and own["FLAG"] == "true"
    assert "OTHER_ONLY" not in own and "ECHO_ONLY" not in own
    assert other["OTHER_ONLY"] == "b" and "ENV_ONLY" not in other
    for env in (own, other):
        assert "PARENT_ONLY_SECRET" not in env
        assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1"
        assert env["AWS_ACCESS_KEY_ID"] == "local-key"
        assert env["TZ"] == "UTC" and env["AWS_REGION"] == "us-east-1"
    assert own["AWS_LAMBDA_FUNCTION_NAME"] == "dev-t-Env" and own["_HANDLER"] == "echo_fn.handlers.env"
    assert own["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert own["LAMBDA_TASK_ROOT"].endswith("services/echo")


def test_libs_are_importable(client):
    assert client.get("/other").json()["greeting"] == "hello from libs"


def test_timeout_gives_504_and_next_call_works(client, runtime, logs):
    started = time.perf_counter()
    response = client.get("/sleep")
    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}
    assert 1.0 <= time.perf_counter() - started < 3.0  # killed at the function's 1 s timeout
    assert any("Task timed out after 1.00 seconds" in line for line in logs)
    assert client.get("/echo").status_code == 200
    assert client.get("/sleep").status_code == 504  # the replacement worker answers (and times out) again
    assert runtime.workers.pool("Sleep").started >= 2


def test_malformed_output_is_502(client, logs):
    response = client.get("/malformed")
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})
    assert any("Malformed Lambda proxy response" in line for line in logs)


def test_handler_exception_is_502_and_worker_survives(client, runtime, logs):
    for _ in range(2):
        response = client.get("/fail")
        assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})
    assert runtime.workers.pool("Fail").started == 1
    assert any("the handler failed on purpose" in line for line in logs)


def test_crash_is_502_and_next_call_gets_a_new_worker(client, runtime, logs):
    assert client.get("/crash").status_code == 502
    assert client.get("/crash").status_code == 502
    assert runtime.workers.pool("Crash").started == 2
    assert any("Runtime exited" in line for line in logs)


def test_init_error_is_502_with_a_clear_log(client, logs):
    response = client.get("/broken")
    assert (response.status_code, response.json()) == (502, {"message": "Internal server error"})
    assert any("init failed (broken_fn.handlers.handler)" in line and "cannot be imported" in line for line in logs)


def test_unknown_route_404_and_wrong_method_405(client):
    response = client.get("/nope")
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
    response = client.delete("/env")
    assert (response.status_code, response.json()) == (405, {"message": "Method Not Allowed"})
    assert response.headers["Allow"] == "GET"


def test_route_from_another_stack_and_greedy_proxy(client):
    assert client.post("/billing", json={}).json()["event"]["resource"] == "/billing"
    event = client.get("/files/a/b.txt").json()["event"]
    assert event["pathParameters"] == {"proxy": "a/b.txt"} and event["resource"] == "/files/{proxy+}"


def test_binary_response_and_multi_value_headers(client):
    response = client.get("/binary")
    assert response.content == b"\x89PNG\x00\xff"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_binary_request_body_is_base64(client):
    event = client.post("/echo", content=b"\xff\x00", headers={"Content-Type": "application/octet-stream"}).json()
    assert event["event"]["isBase64Encoded"] is True
    assert base64.b64decode(event["event"]["body"]) == b"\xff\x00"


def test_payload_over_10_mb_is_413(client):
    response = client.post("/echo", content=b"x" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413


def test_cors_preflight(client):
    mock = client.options("/secure", headers={"Origin": "https://app.example.com"})
    assert mock.status_code == 200
    assert mock.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    # a resource whose template declares no OPTIONS method has no CORS, as on AWS: no page's origin
    # is echoed back (it was, by a permissive local default)
    none = client.options("/env", headers={"Origin": "http://evil.example",
                                            "Access-Control-Request-Headers": "authorization"})
    assert none.status_code == 405 and "access-control-allow-origin" not in none.headers
    assert none.headers["Allow"] == "GET"


def test_head_has_no_body(client):
    response = client.head("/echo")
    assert response.status_code == 200 and response.content == b""


def test_missing_token_is_401(client):
    response = client.get("/secure")
    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})


def test_concurrent_requests_use_more_than_one_worker(client, runtime):
    client.get("/pid")  # warm one
    pids, errors = [], []

    def call():
        try:
            pids.append(client.get("/pid?sleep=0.5").json()["pid"])
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(set(pids)) >= 2
    assert runtime.workers.pool("Pid").worker_count() <= 4


def test_keep_alive_has_no_nagle_stall(client):
    client.get("/pid")
    timings = []
    for _ in range(50):
        started = time.perf_counter()
        assert client.get("/pid").status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    assert statistics.median(timings) < 10, timings


def test_invoke_directly(runtime):
    assert runtime.invoke("Echo", {"direct": True})["statusCode"] == 200
    assert runtime.invoke("dev-t-Fail", {})["errorType"] == "ValueError"
    assert runtime.invoke("Sleep", {})["errorType"] == "Sandbox.Timedout"


def test_openapi_merges_handler_schemas(client):
    document = client.get("/openapi.json").json()
    assert "/items/{item_id}" in document["paths"]
    page = client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert client.get("/docs/swagger-ui-bundle.min.js").status_code == 200
    assert client.get("/items/42").json() == {"id": "42"}


def test_every_api_under_its_prefix(client):
    response = client.get("/restapis/api123/dev/_user_request_/env")
    assert response.status_code == 200


def test_stop_ends_every_worker(app_copy, logs):
    runtime = start_runtime(app_copy, logs)
    with httpx.Client(base_url=runtime.url, timeout=10) as client:
        client.get("/env")
        client.get("/other")
    processes = [w.process for pool in runtime.workers.pools() for w in pool._all]
    assert len(processes) == 2
    runtime.stop()
    assert all(p.poll() is not None for p in processes)
    with pytest.raises(httpx.ConnectError):
        httpx.get(runtime.url + "/env", timeout=2)
