"""`stagewise token EMAIL`: print a fresh IdToken for a (created if missing) user of a local stage."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from stagewise.errors import UserError
from stagewise.options import SetOption

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def token(
    email: Annotated[str, typer.Argument(help="The user's email (created and confirmed if missing).")],
    stage: Annotated[str, typer.Option("--stage", "-s", help="A local stage.")] = "local",
    set_: SetOption = None,
) -> None:
    """Print only a fresh Cognito IdToken on stdout.

    Example:  curl -H "Authorization: $(stagewise token me@example.com)" http://127.0.0.1:3000/notes
    """
    from stagewise.auth_local import stage_id_token

    if not EMAIL.match(email):
        raise UserError(f"'{email}' is not an email address; the user pool uses email as the username")
    print(stage_id_token(stage, email, overrides=set_))


def register(app: typer.Typer) -> None:
    app.command("token")(token)
