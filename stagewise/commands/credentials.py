"""`stagewise credentials EMAIL`: a local user's Cognito identity and its AWS credentials.

Data flow: sign the user in to the stage's local user pool (created if missing) → GetId and
GetCredentialsForIdentity on the stage's identity pool (stagewise.auth_local.sign_in) → `export`
lines (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, and the local
cloud's AWS_ENDPOINT_URL) or, with --json, `{identityId, accessKeyId, secretAccessKey,
sessionToken, expiration, region}`. With them any SDK, `curl --aws-sigv4` or the AWS CLI acts as that
user: the API's AWS_IAM methods, the user's own `private/<identity id>/` files in S3.
"""

from __future__ import annotations

import json
import shlex
from typing import Annotated

import typer

from stagewise.commands.token import EMAIL
from stagewise.errors import UserError
from stagewise.options import JsonOption, SetOption


def credentials(
    email: Annotated[str, typer.Argument(help="The user's email (created and confirmed if missing).")],
    stage: Annotated[str, typer.Option("--stage", "-s", help="A local stage.")] = "local",
    json_: JsonOption = False,
    set_: SetOption = None,
) -> None:
    """Print the `export` lines of a local user's identity credentials (valid one hour).

    Example:  eval "$(stagewise credentials me@example.com)"
              curl --aws-sigv4 "aws:amz:$AWS_REGION:execute-api" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \\
                   -H "X-Amz-Security-Token: $AWS_SESSION_TOKEN" http://127.0.0.1:3000/notes
    """
    from stagewise.auth_local import sign_in
    from stagewise.localstage import connect

    if not EMAIL.match(email):
        raise UserError(f"'{email}' is not an email address; the user pool uses email as the username")
    found = sign_in(stage, email, overrides=set_)
    if json_:
        print(json.dumps({k: found[k] for k in ("identityId", "accessKeyId", "secretAccessKey", "sessionToken",
                                                "expiration", "region")}))
        return
    values = {"AWS_ACCESS_KEY_ID": found["accessKeyId"], "AWS_SECRET_ACCESS_KEY": found["secretAccessKey"],
              "AWS_SESSION_TOKEN": found["sessionToken"], "AWS_REGION": found["region"],
              "AWS_ENDPOINT_URL": connect(stage, overrides=set_).endpoint, "STAGEWISE_IDENTITY_ID": found["identityId"]}
    for name, value in values.items():
        print(f"export {name}={shlex.quote(value)}")


def register(app: typer.Typer) -> None:
    app.command("credentials")(credentials)
