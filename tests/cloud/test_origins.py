"""A web page on another origin cannot use the local cloud, nor reach it under another host name."""

from __future__ import annotations

import httpx

from stagewise.cloud import LocalCloud
from stagewise.cloud.origins import record_origin


def preflight(cloud: LocalCloud, origin: str) -> httpx.Response:
    return httpx.options(cloud.endpoint, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "x-amz-target,authorization"})


def test_another_origin_gets_no_cors_and_no_answer(cloud: LocalCloud) -> None:
    refused = preflight(cloud, "http://evil.example")
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    post = httpx.post(cloud.endpoint, content=b"{}", headers={
        "Origin": "http://evil.example", "X-Amz-Target": "DynamoDB_20120810.ListTables",
        "Content-Type": "text/plain"})
    assert post.status_code == 403 and "access-control-allow-origin" not in post.headers


def test_the_local_apis_origin_is_answered_with_itself_never_a_wildcard(cloud: LocalCloud) -> None:
    allowed = preflight(cloud, "http://127.0.0.1:3000")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"
    assert allowed.headers["access-control-allow-headers"] == "x-amz-target,authorization"
    assert preflight(cloud, "http://127.0.0.1:4123").status_code == 403
    record_origin(cloud.state_dir, "http://127.0.0.1:4123/")  # what `stagewise dev --port 4123` does
    assert preflight(cloud, "http://127.0.0.1:4123").headers["access-control-allow-origin"] == "http://127.0.0.1:4123"
    health = httpx.get(f"{cloud.endpoint}/_stagewise/health", headers={"Origin": "http://127.0.0.1:3000"})
    assert health.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"


def test_a_rebinding_host_name_is_refused(cloud: LocalCloud) -> None:
    assert httpx.get(f"{cloud.endpoint}/_stagewise/health", headers={"Host": f"evil.example:{cloud.port}"}
                     ).status_code == 403
    for host in (f"127.0.0.1:{cloud.port}", f"localhost:{cloud.port}", f"s3.localhost:{cloud.port}"):
        assert httpx.get(f"{cloud.endpoint}/_stagewise/health", headers={"Host": host}).status_code == 200
