"""The `stagewise` command: one Typer app, one module per verb under stagewise/commands/.

Each module in stagewise.commands defines `register(app: typer.Typer)`; this file
discovers them, so adding a verb never edits a shared list. Errors a user can fix
(ConfigError, UserError) print one line and exit 2; nothing prints a traceback.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from stagewise import commands
from stagewise.errors import ConfigError, UserError

app = typer.Typer(
    name="stagewise",
    help="Run a serverless app locally with no Docker and no AWS account; ship it through stages.\n\n"
    "Example:  stagewise dev            (serve the API at http://127.0.0.1:3000/)",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register_all() -> None:
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_register_all()


def main() -> None:
    try:
        app()
    except (ConfigError, UserError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
