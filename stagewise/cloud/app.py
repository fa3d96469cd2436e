"""The durable WSGI application: moto behind one lock, with every mutation journaled.

Data flow for one request: the body is read in full; a stagewise local key is turned
into moto's account header (`accounts.account_for_request`); `classify.is_mutating`
decides whether it can change state. Under the global lock (moto's backends are not
thread-safe, and it makes journal order the execution order) a mutating request gets
the next sequence number, moto is seeded with it (`determinism`), runs, and the
request is appended to the journal and fsynced; only then is the response returned.
Reads run under the same lock, unjournaled. `replay()` feeds journal entries through
the same path in-process (no HTTP) before the server listens.

`GET /_stagewise/health` answers without touching moto (readiness and `status`).
CloudFormation's API is not moto's: its requests go to `self.cloudformation` (the
provisioner behind CloudFormation's wire protocol, stagewise.cloud.cloudformation), unjournaled
— what it changes, it changes through journaled S3 and service requests of its own.
SQS long polls are run as zero-wait receives with the lock released in between, so one
waiting consumer never stalls the whole cloud: a poll that found nothing waits for the next
journaled write (a message sent, published, or made visible again), or `RECHECK_S` for one that
becomes visible with time (a delay, an expired visibility timeout). An empty receive changes
nothing and is not journaled.
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY

from stagewise.cloud import acm_validation, alarm_actions, cognito_identity, sms, trace_header, userpool_keys
from stagewise.cloud.accounts import account_for_request
from stagewise.cloud.backend_lock import BackendLock
from stagewise.cloud.classify import action_of, is_mutating, is_read_action
from stagewise.cloud.cloudformation.protocol import is_cloudformation
from stagewise.cloud.determinism import Determinism
from stagewise.cloud.guard import POOL_WELL_KNOWN
from stagewise.cloud.journal import Journal, JournalEntry
from stagewise.cloud.layout import HEALTH_PATH
from stagewise.cloud.origins import Origins
from stagewise.cloud.snapshot import SNAPSHOT_FILE, SnapshotError, restore, take
from stagewise.cloud.wsgi import Response, base_environ, call

# Headers that never change what moto does; everything else is journaled.
UNJOURNALED_HEADERS = frozenset(
    {
        "HTTP_USER_AGENT",
        "HTTP_ACCEPT_ENCODING",
        "HTTP_CONNECTION",
        "HTTP_KEEP_ALIVE",
        "HTTP_AMZ_SDK_INVOCATION_ID",
        "HTTP_AMZ_SDK_REQUEST",
        "HTTP_TRANSFER_ENCODING",
        "HTTP_CONTENT_LENGTH",
        "HTTP_EXPECT",
    }
)
RECHECK_S = 0.5  # a long poll's look for messages that become visible with time, not by a write
# Snapshot after this many journal entries at least; more when snapshots get slow, so that
# snapshotting costs at most ~0.5 ms per write (a replayed entry costs ~1-1.5 ms).
SNAPSHOT_EVERY = 200
ENTRIES_PER_SNAPSHOT_SECOND = 2000
StartResponse = Callable[..., Any]


FORM_TYPE = "application/x-www-form-urlencoded"


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", ""):
        return stream.read()
    return b""


class DurableApp:
    """Wraps moto's WSGI app with a lock, a journal and deterministic replay."""

    def __init__(self, moto_app: Callable[..., Iterable[bytes]], *, journal: Journal, state_dir: Path) -> None:
        self.moto_app = moto_app
        self.journal = journal
        self.state_dir = state_dir
        self.snapshot_path = state_dir / SNAPSHOT_FILE
        self.snapshot_seq = 0
        self.next_snapshot_at = SNAPSHOT_EVERY
        self.lock = BackendLock()
        self._writes = 0  # journaled writes so far: what a waiting long poll watches
        self._written = threading.Condition()
        self.determinism = Determinism()
        self.determinism.install()
        sms.install()
        trace_header.install()
        alarm_actions.install()
        acm_validation.install()
        self.cloudformation: Any = None  # a CloudFormationApp, set once the server knows its port
        self.cognito_identity: Any = None  # a CognitoIdentity (sign-in calls moto gets wrong), set with it
        self.guard: Any = None  # a Guard (cloud/guard.py): checked before anything answers, set with them
        self.origins = Origins(state_dir)  # browsers and host names (cloud/origins.py)

    # -- entry points -------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        response = self._browser_check(environ) or self._answer(environ)
        start_response(response.status, self._cors(environ, response.headers))
        return [response.body]

    @staticmethod
    def answers_at_once(environ: dict[str, Any]) -> bool:
        """Whether the request is a named read moto answers from memory (DynamoDB's GetItem, IAM's
        GetRolePolicy…): the front end runs those on its event loop. Writes wait for the journal's
        fsync, SQS long polls sleep, CloudFormation reads stack files, and S3 and the other REST APIs
        name no action (a GET may stream a large object): those run in a thread."""
        action = action_of(environ, environ["wsgi.input"].getvalue())
        return (action is not None and is_read_action(action) and not is_cloudformation(environ)
                and not cognito_identity.serves(environ))

    def _answer(self, environ: dict[str, Any]) -> Response:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            return self._health()
        well_known = POOL_WELL_KNOWN.match(environ.get("PATH_INFO", ""))
        if well_known and well_known.group(1) == "jwks.json" and environ.get("REQUEST_METHOD") == "GET":
            return _json_response(userpool_keys.jwks(self.state_dir))  # the key this install signs with
        if environ.get("PATH_INFO") == sms.SMS_PATH:
            with self.lock:
                return _json_response(sms.listing())
        return self._route(self._normalised(environ))

    def _browser_check(self, environ: dict[str, Any]) -> Response | None:
        """Another host name (DNS rebinding) or another origin is refused; an allowed preflight answered."""
        if not self.origins.host_allowed(environ.get("HTTP_HOST", "")):
            return _json_response({"message": "this local cloud answers loopback host names only"}, "403 Forbidden")
        origin = environ.get("HTTP_ORIGIN")
        if not self.origins.origin_allowed(origin):
            return _json_response({"message": f"origin {origin} may not call the local cloud"}, "403 Forbidden")
        if origin and environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return Response("200 OK", [("Content-Length", "0")], b"")
        return None

    def _cors(self, environ: dict[str, Any], headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """moto's CORS headers (any origin, echoed) replaced by ours for an allowed origin only."""
        kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
        origin = environ.get("HTTP_ORIGIN")
        if origin and self.origins.origin_allowed(origin):
            kept += self.origins.cors_headers(origin, environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", ""))
        return kept

    def replay(self) -> int:
        """Load the snapshot, then re-run the journal entries after it in order; returns how many ran."""
        self.snapshot_seq = restore(self.snapshot_path, self.journal.seal)
        self.journal.last_seq = self.snapshot_seq
        count = 0
        for entry in self.journal.entries(after=self.snapshot_seq):
            with self.lock:
                self._run(_environ_for(entry), seq=entry.seq, at=entry.at)
            count += 1
        return count

    def snapshot(self) -> bool:
        """Snapshot the state and empty the journal (call with the lock held, journal open)."""
        if self.journal.count == 0:
            return True
        started = time.perf_counter()
        try:
            size = take(self.snapshot_path, seq=self.journal.last_seq, seal=self.journal.seal)
        except SnapshotError as exc:
            print(f"snapshot skipped, keeping the full journal: {exc}", file=sys.stderr, flush=True)
            self.next_snapshot_at = self.journal.count + SNAPSHOT_EVERY
            return False
        self.snapshot_seq = self.journal.last_seq
        self.journal.compact()
        took = time.perf_counter() - started
        self.next_snapshot_at = max(SNAPSHOT_EVERY, int(took * ENTRIES_PER_SNAPSHOT_SECOND))
        print(
            f"snapshot at seq {self.snapshot_seq}: {size} bytes in {took * 1000:.0f} ms; journal compacted",
            file=sys.stderr,
            flush=True,
        )
        return True

    # -- request handling -------------------------------------------------------------------

    def handle(self, environ: dict[str, Any]) -> Response:
        body = environ["wsgi.input"].getvalue()
        if not is_mutating(environ, body):
            with self.lock:
                return self._call_moto(environ)
        if action_of(environ, body) == "ReceiveMessage":
            return self._receive(environ, body)
        with self.lock:
            return self._journaled(environ)

    def _journaled(self, environ: dict[str, Any], *, keep: Callable[[Response], bool] | None = None) -> Response:
        """Run one mutating request under the (held) lock and journal it before returning."""
        seq, at = self.journal.last_seq + 1, time.time()
        entry = _entry_for(environ, seq=seq, at=at)
        response = self._run(environ, seq=seq, at=at)
        if keep is None or keep(response):
            self.journal.append(entry)
            if self.journal.count >= self.next_snapshot_at:
                self.snapshot()
            with self._written:
                self._writes += 1
                self._written.notify_all()
        return response

    def _run(self, environ: dict[str, Any], *, seq: int, at: float) -> Response:
        self.determinism.enter(seq=seq, at=at)
        try:
            return self._call_moto(environ)
        finally:
            self.determinism.leave()

    def _call_moto(self, environ: dict[str, Any]) -> Response:
        try:
            with trace_header.carrying(environ):
                return call(self.moto_app, environ)
        except Exception as exc:  # a moto bug: answer 500 live, and the same on replay
            traceback.print_exc(file=sys.stderr)
            message = f"internal error in the local cloud (moto): {type(exc).__name__}".encode()
            return Response("500 Internal Server Error", [("Content-Type", "text/plain")], message)

    def _route(self, environ: dict[str, Any]) -> Response:
        """The guard first (signatures it can check, what identities may do), then who answers."""
        refused = self.guard.check(environ, environ["wsgi.input"].getvalue()) if self.guard is not None else None
        if refused is not None:
            status, headers, body = refused
            return Response(f"{status} {HTTPStatus(status).phrase}", headers, body)
        if self.cloudformation is not None and is_cloudformation(environ):
            return self._served_by(self.cloudformation, environ)
        if self.cognito_identity is not None and cognito_identity.serves(environ):
            return self._served_by(self.cognito_identity, environ)
        return self.handle(environ)

    @staticmethod
    def _served_by(service: Any, environ: dict[str, Any]) -> Response:
        status, headers, body = service.serve(environ, environ["wsgi.input"].getvalue())
        return Response(f"{status} {HTTPStatus(status).phrase}", headers, body)

    def _receive(self, environ: dict[str, Any], body: bytes) -> Response:
        """SQS ReceiveMessage: poll with zero wait, releasing the lock between polls."""
        wait, zero_wait_body = _zero_wait(environ, body)
        deadline = time.monotonic() + wait
        while True:
            attempt = dict(environ, **{"wsgi.input": io.BytesIO(zero_wait_body)})
            attempt["CONTENT_LENGTH"] = str(len(zero_wait_body))
            writes = self._writes  # read before the receive: a write after it is not missed
            with self.lock:
                response = self._journaled(attempt, keep=_received_something)
            left = deadline - time.monotonic()
            if _received_something(response) or left <= 0:
                return response
            self._wait_for_write(after=writes, timeout=min(left, RECHECK_S))

    def _wait_for_write(self, *, after: int, timeout: float) -> None:
        with self._written:
            self._written.wait_for(lambda: self._writes != after, timeout=timeout)

    def _health(self) -> Response:
        return _json_response(
            {
                "ok": True,
                "pid": os.getpid(),
                "state_dir": str(self.state_dir),
                "journal_entries": self.journal.count,
                "snapshot_seq": self.snapshot_seq,
            }
        )

    def _normalised(self, environ: dict[str, Any]) -> dict[str, Any]:
        """Body read into memory, raw URI for moto, and the account header for local keys."""
        body = _read_body(environ)
        environ = dict(environ)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.setdefault("RAW_URI", environ.get("REQUEST_URI", ""))
        if environ["REQUEST_METHOD"] == "PUT" and environ.get("CONTENT_TYPE", "").startswith(FORM_TYPE):
            # Only S3 takes a PUT with a body; clients such as urllib label any body as a form.
            # S3 stores those bytes as they are, but werkzeug would parse them as a form and hand
            # moto an empty body, so the upload would be lost. S3's own default type stands in.
            environ["CONTENT_TYPE"] = "binary/octet-stream"
        account = account_for_request(environ)
        if account and "HTTP_X_MOTO_ACCOUNT_ID" not in environ:
            environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        return environ


def _json_response(value: Any, status: str = "200 OK") -> Response:
    body = json.dumps(value).encode()
    return Response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))], body)


def _received_something(response: Response) -> bool:
    if not response.status.startswith("2"):
        return True  # errors are returned at once (and journaled: conservative)
    return b'"Messages"' in response.body or b"<Message>" in response.body


def _zero_wait(environ: dict[str, Any], body: bytes) -> tuple[float, bytes]:
    """The requested WaitTimeSeconds, and the same request body asking for no wait."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        payload = json.loads(body or b"{}")
        wait = float(payload.get("WaitTimeSeconds", 0) or 0)
        payload["WaitTimeSeconds"] = 0
        return wait, json.dumps(payload).encode()
    form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    wait = float(form.get("WaitTimeSeconds", ["0"])[0] or 0)
    form["WaitTimeSeconds"] = ["0"]
    return wait, urlencode(form, doseq=True).encode()


def _entry_for(environ: dict[str, Any], *, seq: int, at: float) -> JournalEntry:
    headers = {
        key: value
        for key, value in environ.items()
        if (key.startswith("HTTP_") and key not in UNJOURNALED_HEADERS) or key == "CONTENT_TYPE"
    }
    return JournalEntry(
        seq=seq,
        at=at,
        method=environ["REQUEST_METHOD"],
        path=environ.get("PATH_INFO", "/"),
        raw_uri=environ.get("RAW_URI", ""),
        query=environ.get("QUERY_STRING", ""),
        headers=headers,
        body=environ["wsgi.input"].getvalue(),
        preserved=dict(environ.get(PRESERVED_HEADER_NAMES_ENVIRON_KEY) or {}),
    )


def _environ_for(entry: JournalEntry) -> dict[str, Any]:
    environ = base_environ(method=entry.method, path=entry.path, raw_uri=entry.raw_uri, query=entry.query,
                           host=entry.headers.get("HTTP_HOST", "127.0.0.1"), body=entry.body)
    environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = dict(entry.preserved)
    environ.update(entry.headers)
    return environ
