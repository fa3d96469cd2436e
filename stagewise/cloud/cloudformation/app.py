"""The local CloudFormation's entry point in the cloud's server: one request in, AWS's answer out.

Data flow: the caller's account comes from its credentials (a simulated account's local key,
or a key moto issued: an IAM user's, an assumed role's); `protocol.parse` gives the action and
its input; `CloudFormation.handle` runs it against the provisioner, whose clients call this
same cloud as that account, in-process (cloud/inprocess.py: the same request path, no socket); `protocol.respond` serializes the result or the error.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

from stagewise.cloud.accounts import account_for_request, client
from stagewise.cloud.cloudformation.protocol import ApiError, parse, respond
from stagewise.cloud.cloudformation.service import CloudFormation
from stagewise.cloud.inprocess import in_process

DEFAULT_ACCOUNT = "123456789012"  # moto's, for a caller whose key names no account


class CloudFormationApp:
    """`wsgi`: the cloud's own app; when given, the deploys' calls are answered in-process."""

    def __init__(self, endpoint: str, *, checkpoints: Path | None = None, wsgi: Any = None) -> None:
        self.endpoint = endpoint
        self.wsgi = wsgi
        self._clients: dict[tuple[str, str, str], Any] = {}
        self.service = CloudFormation(self.client, checkpoints=checkpoints)

    def client(self, account: str, region: str, service: str) -> Any:
        """One client per account, region and service (boto3 clients are thread-safe to call)."""
        key = (account, region, service)
        if key not in self._clients:
            made = client(self.endpoint, account_id=account, region=region, service=service)
            self._clients[key] = in_process(made, self.wsgi) if self.wsgi is not None else made
        return self._clients[key]

    def stack_states(self, account: str, region: str) -> list[Any]:
        """The provisioner's stack states of one account and region (what other local services read)."""
        return self.service._account(account, region).provisioner().list_stacks()

    def serve(self, environ: dict[str, Any], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        action = ""
        try:
            request = parse(environ, body)
            action = request.action
            result: dict[str, Any] | ApiError = self.service.handle(caller_account(environ), request)
        except ApiError as exc:
            result = exc
        except Exception as exc:  # a bug of ours: CloudFormation's InternalFailure, never a hang
            traceback.print_exc(file=sys.stderr)
            result = ApiError("InternalFailure", f"The local CloudFormation failed: {type(exc).__name__}", 500)
        return respond(action, result)


def caller_account(environ: dict[str, Any]) -> str:
    account = account_for_request(environ)
    if account:
        return account
    header = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
    if header:
        return header
    import re

    found = re.search(r"Credential=([A-Z0-9]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    if found:
        from moto.iam.models import get_account_id_from

        return get_account_id_from(found.group(1))
    return DEFAULT_ACCOUNT
