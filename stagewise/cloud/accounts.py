"""Local credentials per AWS account, and boto3 clients that use them.

Data flow: `credentials(endpoint, account_id)` derives a key pair from the account
id alone (`LKIA<12-digit id>LOCL`), so it is the same in every process and survives
restarts and resets without a call to the cloud. The local cloud's server reads the
access key id back out of each request (`account_for_request`: the SigV4
`Authorization` header, or `X-Amz-Credential` of a presigned URL) and tells moto
which account to act in through its `x-moto-account-id` header. Keys moto issued
itself (IAM, STS) keep working through moto's own lookup. `client(...)` builds a
boto3 client with these credentials, the endpoint, and quick timeouts; it also sends
the account header, so it never lands in moto's default account 123456789012.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

import boto3
from botocore.config import Config

from stagewise.errors import UserError

ACCOUNT_ID = re.compile(r"^\d{12}$")
LOCAL_KEY = re.compile(r"LKIA(\d{12})LOCL")
ACCOUNT_HEADER = "x-moto-account-id"
_CREDENTIAL_IN_AUTH = re.compile(r"Credential=([A-Z0-9]{20})/")
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=60, retries={"max_attempts": 2, "mode": "standard"})
# S3 presigned URLs with Signature Version 4, as AWS requires of buckets made since 2020 (the local
# cloud refuses version 2 like they do)
S3_CONFIG = CLIENT_CONFIG.merge(Config(signature_version="s3v4"))


def _check_account(account_id: str) -> None:
    if not ACCOUNT_ID.match(account_id or ""):
        raise UserError(f"account id '{account_id}' is not 12 digits; use the id from [accounts.<name>] in stagewise.toml")


@lru_cache(maxsize=64)
def _derived(account_id: str) -> tuple[str, str, str]:
    digest = hashlib.sha256(f"stagewise-local:{account_id}".encode()).hexdigest()
    return f"LKIA{account_id}LOCL", digest[:40], f"stagewise-local-{digest[40:]}"


def credentials(endpoint: str, account_id: str) -> dict[str, str]:
    """Environment-style credentials that act in `account_id` inside the local cloud at `endpoint`.

    The keys are derived from the account id, so they are valid for any stagewise local
    cloud (the endpoint does not change them) and stay valid across restarts and resets.
    """
    del endpoint  # the same keys are valid on every local cloud; kept for a stable signature
    _check_account(account_id)
    key_id, secret, token = _derived(account_id)
    return {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token}


def account_for_request(environ: dict[str, Any]) -> str | None:
    """The account a request's local key names (None for keys moto issued, or none at all)."""
    match = _CREDENTIAL_IN_AUTH.search(environ.get("HTTP_AUTHORIZATION", ""))
    key_id = match.group(1) if match else None
    if key_id is None and "X-Amz-Credential" in environ.get("QUERY_STRING", ""):
        credential = parse_qs(environ["QUERY_STRING"]).get("X-Amz-Credential", [""])[0]
        key_id = credential.split("/", 1)[0]
    local = LOCAL_KEY.fullmatch(key_id or "")
    if local:
        return local.group(1)
    from stagewise.cloud.identities import account_of  # a Cognito identity's key names its pool's account

    return account_of(key_id or "")


_SESSION_LOCK = threading.Lock()
_sessions: list[boto3.session.Session] = []


def _shared_session() -> boto3.session.Session:
    """One boto3 session for every client (its loaded service models are cached: ~10x faster clients)."""
    if not _sessions:
        from stagewise.cloud import shared_models

        shared_models.install()  # its models as dicts: 2/3 of botocore's OrderedDicts
        _sessions.append(boto3.session.Session())
    return _sessions[0]


def shared_client(service: str, **options: Any) -> Any:
    """`boto3.client(service, **options)`, made from one process-wide session (thread-safe).

    A new client from a fresh session re-reads botocore's endpoint and service models (~80 ms
    each here); from the shared one it reuses them.
    """
    with _SESSION_LOCK:  # creating clients from one session is not thread-safe; using them is
        return _shared_session().client(service, **options)


def preload(services: Iterable[str], *, region: str) -> None:
    """Read botocore's models for `services` into the shared session now (~30-80 ms each), so the
    clients made later, once the cloud is up, are made in a few ms. No request is sent."""
    for service in services:
        shared_client(service, region_name=region, endpoint_url="http://127.0.0.1:9",
                      aws_access_key_id="preload", aws_secret_access_key="preload")


def env_client(service: str, env: Mapping[str, str], *, region: str, config: Config | None = None) -> Any:
    """A client for the cloud and credentials named by a worker-style env (AWS_ENDPOINT_URL, AWS_*_KEY...)."""
    return shared_client(
        service, region_name=region, endpoint_url=env.get("AWS_ENDPOINT_URL"), config=config,
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID"), aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=env.get("AWS_SESSION_TOKEN"),
    )


def client(endpoint: str, *, account_id: str, region: str, service: str) -> Any:
    """A boto3 client for `service` acting in `account_id` inside the local cloud (thread-safe)."""
    creds = credentials(endpoint, account_id)
    made = shared_client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"],
        config=S3_CONFIG if service == "s3" else CLIENT_CONFIG,
    )

    def add_account(request: Any, **_: Any) -> None:
        request.headers[ACCOUNT_HEADER] = account_id

    made.meta.events.register("before-send.*", add_account)
    return made


@dataclass(frozen=True)
class CloudSession:
    """A client factory bound to one endpoint, account and region (what the provisioner holds)."""

    endpoint: str
    account_id: str
    region: str

    def client(self, service: str) -> Any:
        return client(self.endpoint, account_id=self.account_id, region=self.region, service=service)

    def credentials(self) -> dict[str, str]:
        return credentials(self.endpoint, self.account_id)


def session(endpoint: str, account_id: str, region: str) -> CloudSession:
    _check_account(account_id)
    return CloudSession(endpoint=endpoint, account_id=account_id, region=region)
