"""Test helpers for an app run by stagewise: events and contexts for handler unit tests, and
processes and clients for end-to-end tests and benchmarks.

Handler unit tests (in-process, no server): build the event a function would receive and call
the handler directly.

    event = api_event("GET", "/notes/{id}", path_parameters={"id": "n1"}, identity="us-east-1:1f0c…")
    reply = handler(event, lambda_context("dev-notes-notes-api-GetNote"))
    handler(sns_event(json.dumps({"amount": 4000})), lambda_context("dev-notes-notify-job-Notify"))

- `api_event` is built by the local runtime's own `stagewise.runtime.events.proxy_event`, so a
  unit test sees exactly the API Gateway REST (v1) proxy event `stagewise dev` sends (claims as
  strings, `null` for empty maps, the gateway's added headers). A `{name}` in `path` is the
  route's resource and is filled from `path_parameters`. `identity=` is the caller of an
  `AWS_IAM` method (a Cognito identity id, filled into `requestContext.identity` as API Gateway
  fills it: `identity_fields`); `claims=` the verified claims of a `COGNITO_USER_POOLS` one.
- `sns_event` is built by `stagewise.runtime.delivery.sns_event`, one record per message.
- `lambda_context` has every attribute of a LambdaContext Powertools reads; its remaining time
  counts down from `timeout_ms`.
- `add_import_paths(service_dir, repo_root)` makes handler packages and `libs` importable, as the
  runtime's workers do.
- `mocked_aws(env)` runs moto in-process with fake credentials and `env` set (the endpoint and
  profile variables removed, all restored on exit); `create_table` makes an on-demand table.

End-to-end tests never touch the developer's own local cloud or files: `project_copy` copies the
app (and the folders of its local stand-ins) to a temp folder and points STAGEWISE_PROJECT / STAGEWISE_STATE_DIR there, `running_cloud`
runs a local cloud with its own state dir on a free loopback port, `DevProcess` runs
`stagewise dev` on free loopback ports and stops every process it started, `Client` is a
keep-alive HTTP client that signs each request (SigV4 for `execute-api`) when given a user's
identity credentials, as the app's clients do:

    creds = stagewise.auth_local.sign_in("local", "alice@example.com")   # or `stagewise credentials --json`
    Client(port, credentials=creds).call("GET", "/notes")
    httpx.Client(base_url=..., auth=httpx_auth(creds))                  # the same signature for httpx
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stagewise.net import free_port  # noqa: F401 — part of this module's surface for tests

COPY_ITEMS = ["stagewise.toml", "infra", "services", "libs"]
TEST_REGION = "us-east-1"
TEST_ACCOUNT = "123456789012"
TEST_API_ID = "abc123"
TEST_TOPIC_ARN = f"arn:aws:sns:{TEST_REGION}:{TEST_ACCOUNT}:test-topic"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
_PLACEHOLDER = re.compile(r"\{([^}+]+)\+?\}")


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def percentile_ms(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))
    return round(ordered[index] * 1000, 2)


@contextmanager
def project_copy(repo: Path):
    """A temp copy of the app at `repo` (not the tool) plus a state dir, exported through the environment."""
    with tempfile.TemporaryDirectory(prefix="stagewise-bench-") as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        for item in [*COPY_ITEMS, *_standin_items(repo)]:
            source = repo / item
            if source.is_dir():
                shutil.copytree(source, root / item, ignore=shutil.ignore_patterns("__pycache__", "tests"))
            elif source.exists():
                shutil.copy2(source, root / item)
        state = Path(tmp) / "state"
        saved = {k: os.environ.get(k) for k in ("STAGEWISE_PROJECT", "STAGEWISE_STATE_DIR")}
        os.environ["STAGEWISE_PROJECT"] = str(root)
        os.environ["STAGEWISE_STATE_DIR"] = str(state)
        try:
            yield root, state
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _standin_items(repo: Path) -> list[str]:
    """The top folders (or files) of the app's local stand-ins (`[local.standins.*] module`): dev runs them
    from the copy."""
    from stagewise.config import load_project

    tops = {settings.module.split(".")[0] for settings in load_project(repo / "stagewise.toml").standins.values()}
    return sorted({top if (repo / top).is_dir() else f"{top}.py" for top in tops} - set(COPY_ITEMS))


@contextmanager
def running_cloud(state_dir: Path, *, port: int | None = None) -> Iterator[Any]:
    """A started `stagewise.cloud.LocalCloud` on `port` (default: a free one); stopped on exit, even after a failed start."""
    from stagewise.cloud import LocalCloud

    cloud = LocalCloud(state_dir, port or free_port())
    try:
        cloud.start()
        yield cloud
    finally:
        cloud.stop()


class DevProcess:
    """`stagewise dev` as a subprocess on free ports."""

    stop_wait_s = 15.0  # for dev to stop in order after Ctrl-C, before it and what it started are killed

    def __init__(self, *, port: int, cloud_port: int, stage: str = "local", extra_args: tuple[str, ...] = ()) -> None:
        self.port, self.cloud_port, self.stage, self.extra_args = port, cloud_port, stage, extra_args
        self.proc: subprocess.Popen | None = None
        # A file, not a pipe: a chatty dev must never block on a full pipe nobody reads.
        self.log_file = tempfile.NamedTemporaryFile(prefix="stagewise-dev-", suffix=".log", delete=False)

    def log(self) -> str:
        return Path(self.log_file.name).read_text(errors="replace")

    def start(self) -> float:
        began = time.perf_counter()
        cmd = [sys.executable, "-m", "stagewise.cli", "dev", "--stage", self.stage,
               "--port", str(self.port), "--cloud-port", str(self.cloud_port), *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT, start_new_session=True)
        return began

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            tree = {pid: _started(pid) for pid in self.pids()}
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=self.stop_wait_s)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                _kill_survivors(tree)  # the cloud and daemons run in sessions of their own: dev stops them
        self.proc = None

    def pids(self) -> list[int]:
        """The dev process and every descendant (workers, the cloud if dev started it)."""
        if not self.proc:
            return []
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (fields := proc_stat(int(entry.name))) is not None:
                children.setdefault(int(fields[1]), []).append(int(entry.name))
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def rss_mb(self) -> float:
        return _summed_mb(self.pids(), "status", "VmRSS:")

    def pss_mb(self) -> float:
        """Proportional set size summed over the tree: pages forked workers share count once."""
        return _summed_mb(self.pids(), "smaps_rollup", "Pss:")

    def cpu_s(self) -> float:
        """User and system CPU the tree's processes have used so far (those still running)."""
        return sum(used for pid in self.pids() if (used := process_cpu_s(pid)) is not None)

    def pss_by_role_mb(self) -> dict[str, float]:
        """The tree's PSS by what each process is (`process_role`), and `workers` the count of workers."""
        roles: dict[str, list[int]] = {}
        for pid in self.pids():
            roles.setdefault(process_role(pid), []).append(pid)
        figures = {role: _summed_mb(pids, "smaps_rollup", "Pss:") for role, pids in roles.items()}
        figures["workers"] = len(roles.get("worker", []))
        return figures


_ROLES = {"stagewise.cli": "dev", "stagewise.cloud.server": "cloud", "stagewise.tracing.daemon": "xray-daemon",
          "stagewise.runtime.worker_main": "worker"}


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (so [0] is field 3, the state; [1] the
    parent; [11] and [12] user and system CPU ticks; [19] the start time); None once the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields if len(fields) > 19 else None


def process_cpu_s(pid: int) -> float | None:
    """User and system CPU seconds a process has used so far; None once it is gone."""
    fields = proc_stat(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _started(pid: int) -> str | None:
    """A process's start time: tells a pid from its later reuse."""
    fields = proc_stat(pid)
    return fields[19] if fields is not None else None


def _kill_survivors(tree: dict[int, str | None]) -> None:
    """SIGKILL what is left of a process tree that was not stopped in order (same pid, same start time)."""
    for pid, started in tree.items():
        if started is not None and _started(pid) == started:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def process_role(pid: int) -> str:
    """What a process of a `dev` tree is, from its command line: dev, cloud, xray-daemon, template, worker
    (forked from a template, or a plain worker process), or other (a local stand-in, ...)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return "other"
    fields = proc_stat(pid)
    if fields is None:
        return "other"
    parent = int(fields[1])
    module = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else ""
    if module == "stagewise.runtime.template_main":
        return "worker" if process_role(parent) == "template" else "template"
    return _ROLES.get(module, "other")


def _summed_mb(pids: list[int], proc_file: str, field: str) -> float:
    """The sum of one kB field of /proc/<pid>/<proc_file> over `pids` (gone processes count 0), in MB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/{proc_file}").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


Credentials = Mapping[str, Any]  # {"accessKeyId", "secretAccessKey", "sessionToken", "region"?, ...}


def sign(credentials: Credentials, method: str, url: str, body: bytes | None = None,
         headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """`headers` plus the SigV4 headers (`Authorization`, `X-Amz-Date`, `X-Amz-Security-Token`) that
    sign this request for `execute-api` with a user's identity credentials (botocore's own signer).

    `credentials` as `stagewise.auth_local.sign_in` or `stagewise credentials --json` give them; the
    region is theirs (`region`, default us-east-1). Only `headers` and the host are signed, so the
    HTTP client may add its own (User-Agent, Accept-Encoding, ...) without breaking the signature.
    """
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    request = AWSRequest(method=method, url=url, data=body or b"", headers=dict(headers or {}))
    keys = BotoCredentials(credentials["accessKeyId"], credentials["secretAccessKey"], credentials.get("sessionToken"))
    SigV4Auth(keys, "execute-api", credentials.get("region") or TEST_REGION).add_auth(request)
    return dict(request.headers.items())


def httpx_auth(credentials: Credentials) -> Any:
    """An `httpx.Auth` that signs every request with `credentials` (see `sign`); keeps any
    headers the request has, but signs only Content-Type, Idempotency-Key and the host."""
    import httpx

    class _SigV4(httpx.Auth):
        requires_request_body = True

        def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
            signed = {k: v for k, v in request.headers.items() if k.lower() in _SIGNED_HEADERS}
            request.headers.update(sign(credentials, request.method, str(request.url), request.content, signed))
            yield request

    return _SigV4()


_SIGNED_HEADERS = {"content-type", "idempotency-key"}


class Client:
    """A keep-alive HTTP client on one connection.

    `credentials` (a user's identity credentials, see `sign`): every request is SigV4-signed for
    `execute-api`, as the app's clients sign them for its AWS_IAM methods. `token`: sent as the
    `Authorization` header instead (COGNITO_USER_POOLS methods). Neither: unsigned.
    """

    def __init__(self, port: int, token: str | None = None, *, credentials: Credentials | None = None) -> None:
        if token and credentials:
            raise ValueError("pass a token or credentials, not both")
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": token} if token else {}
        self.credentials = credentials

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self.headers, "Content-Type": "application/json"}
        if self.credentials is not None:
            headers = sign(self.credentials, method, f"http://127.0.0.1:{self.port}{path}", data, headers)
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)

    def close(self) -> None:
        self.conn.close()


# --- handler unit tests: events, contexts, moto --------------------------------------------------


def add_import_paths(*folders: Path) -> None:
    """Put each folder (a service folder, the repo root for `libs`) at the front of sys.path, once."""
    for folder in folders:
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    claims: Mapping[str, Any] | None = None,
    identity: str | Mapping[str, Any] | None = None,
    path_parameters: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    stage: str = "test",
    account_id: str = TEST_ACCOUNT,
) -> dict[str, Any]:
    """The API Gateway REST (v1) proxy event `stagewise dev` would send for this request.

    `body`: a str or bytes is sent as is, anything else JSON-encoded; with a body the
    Content-Type defaults to application/json. `claims` are a Cognito authorizer's verified
    claims (None: no authorizer). `identity` is the caller of an AWS_IAM method: a Cognito identity
    id (`requestContext.identity` then holds what API Gateway fills for that identity's
    credentials, `identity_fields`) or the identity keys themselves. A `{name}` or `{name+}` in
    `path` is filled from `path_parameters`.
    """
    from stagewise.runtime.events import ApiContext, HttpRequest, proxy_event
    from stagewise.runtime.model import RouteSpec

    parameters = dict(path_parameters or {})
    data = _body_bytes(body)
    sent = {"Host": f"{TEST_API_ID}.execute-api.{TEST_REGION}.amazonaws.com", "User-Agent": "stagewise-testing"}
    if data:
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    request = HttpRequest(method=method, path=_fill_path(path, parameters), query=list((query or {}).items()),
                          headers=list(sent.items()), body=data)
    route = RouteSpec(api_id=TEST_API_ID, path=path, method=method, resource_id=TEST_API_ID, function=None,
                      integration_type="AWS_PROXY", authorization=_authorization(claims, identity))
    api = ApiContext(account_id=account_id, api_id=TEST_API_ID, stage=stage, region=TEST_REGION)
    caller = identity_fields(identity, account_id=account_id) if isinstance(identity, str) else identity
    return proxy_event(request, route=route, path_parameters=parameters, api=api,
                       claims=dict(claims) if claims is not None else None,
                       identity=dict(caller) if caller is not None else None)


def identity_fields(identity_id: str, *, account_id: str = TEST_ACCOUNT,
                    pool_id: str = f"{TEST_REGION}:00000000-0000-4000-8000-000000000000",
                    user_pool_id: str = f"{TEST_REGION}_TESTPOOL", user_sub: str = "test-user-sub") -> dict[str, Any]:
    """`requestContext.identity` of a request signed with the credentials of Cognito identity
    `identity_id` (an identity pool's authenticated role), as API Gateway fills it."""
    provider = f"cognito-idp.{TEST_REGION}.amazonaws.com/{user_pool_id}"
    session = "AROATESTAUTHROLE:CognitoIdentityCredentials"
    return {
        "cognitoIdentityPoolId": pool_id,
        "cognitoIdentityId": identity_id,
        "cognitoAuthenticationType": "authenticated",
        "cognitoAuthenticationProvider": f"{provider},{provider}:CognitoSignIn:{user_sub}",
        "accountId": account_id,
        "caller": session,
        "user": session,
        "userArn": f"arn:aws:sts::{account_id}:assumed-role/test-auth-role/CognitoIdentityCredentials",
        "accessKey": "ASIATESTIDENTITYKEY0",
    }


def _authorization(claims: Mapping[str, Any] | None, identity: str | Mapping[str, Any] | None) -> str:
    if claims and identity:
        raise ValueError("a method has one authorization: pass claims (Cognito) or identity (AWS_IAM), not both")
    return "COGNITO_USER_POOLS" if claims else "AWS_IAM" if identity else "NONE"


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    return (body if isinstance(body, str) else json.dumps(body)).encode()


def _fill_path(template: str, parameters: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in parameters:
            raise ValueError(f"path {template!r} has {{{name}}}: pass path_parameters={{{name!r}: ...}}")
        return parameters[name]

    return _PLACEHOLDER.sub(one, template)


def sns_event(*messages: str, topic_arn: str = TEST_TOPIC_ARN, subject: str | None = None) -> dict[str, Any]:
    """The event SNS gives a subscribed Lambda function: one record per message, as `stagewise dev` delivers it."""
    from stagewise.runtime.delivery import sns_event as delivered_event

    records: list[dict[str, Any]] = []
    for message in messages:
        envelope = {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "Signature": "EXAMPLE",
            "SigningCertURL": f"https://sns.{TEST_REGION}.amazonaws.com/cert.pem",
        }
        records += delivered_event(envelope, subscription_arn=f"{topic_arn}:{uuid.uuid4()}")["Records"]
    return {"Records": records}


@dataclass(frozen=True)
class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    aws_request_id: str
    invoked_function_arn: str
    timeout_ms: int
    memory_limit_in_mb: int
    function_version: str = "$LATEST"
    started: float = field(default_factory=time.monotonic)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"2026/01/01/[$LATEST]{self.aws_request_id.replace('-', '')}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.timeout_ms - int((time.monotonic() - self.started) * 1000))


def lambda_context(
    function_name: str = "test-function",
    *,
    timeout_ms: int = 10_000,
    memory_mb: int = 256,
    request_id: str | None = None,
    account_id: str = TEST_ACCOUNT,
) -> LambdaContext:
    """A context for one invocation of `function_name` (a fresh request id unless given)."""
    return LambdaContext(
        function_name=function_name,
        aws_request_id=request_id or str(uuid.uuid4()),
        invoked_function_arn=f"arn:aws:lambda:{TEST_REGION}:{account_id}:function:{function_name}",
        timeout_ms=timeout_ms,
        memory_limit_in_mb=memory_mb,
    )


@contextmanager
def mocked_aws(env: Mapping[str, str] | None = None, *, region: str = TEST_REGION) -> Iterator[None]:
    """moto in-process with fake credentials, `region` and `env` in os.environ; all restored on exit.

    AWS_ENDPOINT_URL and AWS_PROFILE are removed meanwhile, so no client reaches a real or local cloud.
    """
    from moto import mock_aws

    wanted: dict[str, str | None] = {**FAKE_CREDENTIALS, "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
                                     **(env or {}), "AWS_ENDPOINT_URL": None, "AWS_PROFILE": None}
    saved = {name: os.environ.get(name) for name in wanted}
    _set_environ(wanted)
    try:
        with mock_aws():
            yield
    finally:
        _set_environ(saved)


def _set_environ(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def create_table(client: Any, name: str, *, hash_key: str, range_key: str | None = None) -> None:
    """An on-demand DynamoDB table with string keys (`client` is a boto3 DynamoDB client)."""
    keys = [(hash_key, "HASH")] + ([(range_key, "RANGE")] if range_key else [])
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": kind} for key, kind in keys],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"} for key, _ in keys],
        BillingMode="PAY_PER_REQUEST",
    )
