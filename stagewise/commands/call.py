"""`stagewise call METHOD PATH`: one request to the local API, signed as a user (SigV4) or not.

Data flow: `--as EMAIL` → that user's identity credentials (stagewise.auth_local.sign_in) →
botocore's SigV4 signer for `execute-api` → the request to the API (`--url`, default the one
`stagewise dev` serves) → the status on stderr, the body on stdout; the exit code is 0 for 2xx/3xx,
1 for 4xx/5xx, 2 when the request could not be made.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Annotated

import typer

from stagewise.errors import UserError
from stagewise.options import SetOption

DEFAULT_URL = "http://127.0.0.1:3000"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def call(
    method: Annotated[str, typer.Argument(help="GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS.")],
    path: Annotated[str, typer.Argument(help="The path (and query) on the API, e.g. /notes or /notes/ID.")],
    as_: Annotated[str | None, typer.Option("--as", help="Sign as this local user (created if missing).")] = None,
    data: Annotated[str | None, typer.Option("--data", "-d", help="A JSON body.")] = None,
    stage: Annotated[str, typer.Option("--stage", "-s", help="A local stage.")] = "local",
    url: Annotated[str, typer.Option("--url", envvar="STAGEWISE_API_URL",
                                     help="The API's base URL.")] = DEFAULT_URL,
    set_: SetOption = None,
) -> None:
    """Send one request to the local API and print the response body.

    Example:  stagewise call POST /notes --as me@example.com --data '{"content": "hello"}'
    """
    method = method.upper()
    if method not in METHODS:
        raise UserError(f"'{method}' is not an HTTP method; use one of {', '.join(METHODS)}")
    if not path.startswith("/"):
        raise UserError(f"the path must start with '/', got '{path}'")
    body = _body(data)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    target = url.rstrip("/") + path
    if as_:
        headers = _signed(method, target, body, headers, email=as_, stage=stage, overrides=set_)
    status, answer = _send(method, target, body, headers)
    print(f"{status}", file=sys.stderr)
    sys.stdout.write(answer.decode("utf-8", "replace"))
    if answer and not answer.endswith(b"\n"):
        sys.stdout.write("\n")
    raise typer.Exit(0 if status < 400 else 1)


def _body(data: str | None) -> bytes | None:
    if data is None:
        return None
    try:
        json.loads(data)
    except ValueError as exc:
        raise UserError(f"--data is not JSON: {exc}") from exc
    return data.encode()


def _signed(method: str, target: str, body: bytes | None, headers: dict[str, str], *, email: str, stage: str,
            overrides: list[str] | None) -> dict[str, str]:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from stagewise.auth_local import sign_in

    found = sign_in(stage, email, overrides=overrides)
    request = AWSRequest(method=method, url=target, data=body or b"", headers=headers)
    SigV4Auth(Credentials(found["accessKeyId"], found["secretAccessKey"], found["sessionToken"]),
              "execute-api", found["region"]).add_auth(request)
    return dict(request.headers)


def _send(method: str, target: str, body: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(target, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (a URL the user gave)
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        raise UserError(f"cannot reach {target}: {exc}; is `stagewise dev` running (or pass --url)?") from exc


def register(app: typer.Typer) -> None:
    app.command("call")(call)
