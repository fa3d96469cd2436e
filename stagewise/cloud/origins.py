"""Who may reach the local cloud from a browser, and by which host name.

A web page the developer visits must not read or write local data: the cloud answers CORS only
for the origins allowed here — the local API's own origin (`stagewise dev` records it with
`record_origin` when it starts; `http://127.0.0.1:3000` and `http://localhost:3000` by default)
plus `STAGEWISE_CORS_ORIGINS` (comma-separated) — never `*` and never an echo of any origin; a
request carrying another `Origin` is refused outright (a browser sends one on every cross-origin
call, so a form POST from a page cannot act either). A request whose `Host` is not a loopback
name (or one listed in `STAGEWISE_ALLOWED_HOSTS`) is refused: a DNS-rebinding page reaches
127.0.0.1 under its own name, and is turned away by it.
"""

from __future__ import annotations

import os
from pathlib import Path

from stagewise.cloud.layout import ORIGINS_FILE

DEFAULT_ORIGINS = frozenset({"http://127.0.0.1:3000", "http://localhost:3000"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
ALLOW_METHODS = "GET, PUT, POST, DELETE, HEAD"
MAX_AGE = "600"


def record_origin(state_dir: Path, origin: str) -> None:
    """Allow `origin` (the local API's URL) to call the cloud from a browser."""
    path = state_dir / ORIGINS_FILE
    known = set(path.read_text().split()) if path.is_file() else set()
    if origin.rstrip("/") not in known:
        state_dir.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:
            out.write(origin.rstrip("/") + "\n")


class Origins:
    """The allowed origins and hosts of one state dir (the file is read again when it changes)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / ORIGINS_FILE
        self._seen: tuple[float, frozenset[str]] = (-1.0, frozenset())
        extra_hosts = os.environ.get("STAGEWISE_ALLOWED_HOSTS", "")
        self.hosts = LOOPBACK_HOSTS | {h.strip().lower() for h in extra_hosts.split(",") if h.strip()}

    def allowed(self) -> frozenset[str]:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            mtime = 0.0
        if mtime != self._seen[0]:
            recorded = set(self.path.read_text().split()) if mtime else set()
            configured = {o.strip().rstrip("/") for o in os.environ.get("STAGEWISE_CORS_ORIGINS", "").split(",")}
            self._seen = (mtime, frozenset(DEFAULT_ORIGINS | recorded | configured) - {""})
        return self._seen[1]

    def host_allowed(self, host: str) -> bool:
        """True for a loopback name (any port), a `*.localhost` name, or a configured host."""
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.lower()
        return name in self.hosts or name.endswith(".localhost") or not name

    def origin_allowed(self, origin: str | None) -> bool:
        return origin is None or origin.rstrip("/") in self.allowed()

    def cors_headers(self, origin: str, requested_headers: str = "") -> list[tuple[str, str]]:
        """The headers of an answer to an allowed origin (never `*`)."""
        headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin"),
                   ("Access-Control-Expose-Headers", "ETag, x-amz-request-id, x-amzn-RequestId, x-amz-version-id")]
        if requested_headers:
            headers += [("Access-Control-Allow-Methods", ALLOW_METHODS),
                        ("Access-Control-Allow-Headers", requested_headers), ("Access-Control-Max-Age", MAX_AGE)]
        return headers
