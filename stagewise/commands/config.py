"""`stagewise config --stage S | --pr N | --branch B [--json] [--set k=v] [--local]`: what a stage resolves to, and why.

Reads stagewise.toml only (no AWS call): every setting and stage variable with the layer it came
from (`default`, `[app]`, `[defaults]`, `[stages.dev]`, `[ephemeral]`, `--set`, and `….vars]` for
variables), the account and how it is reached, whose infra stacks the stage uses, and where its
secrets fall back to.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stagewise.commands.stage_name import BranchOption, PrOption, resolve_stage
from stagewise.options import JsonOption, LocalOption, SetOption

if TYPE_CHECKING:
    from stagewise.config import Project, Resolution


def config(
    stage: Annotated[str | None, typer.Option(
        "--stage", "-s", help="Stage to explain (dev, prod, pr-42, ...).", show_default=False)] = None,
    pr: PrOption = None,
    branch: BranchOption = None,
    as_json: JsonOption = False,
    set_: SetOption = None,
    local: LocalOption = False,
) -> None:
    """Print every resolved setting and variable of a stage with where it came from, its account, infra and secrets.

    Give exactly one of --stage, --pr or --branch.

    Example:  stagewise config --stage pr-7

    Example:  stagewise config --stage prod --json | jq -r '.vars.admin_phone.value'
    """
    from stagewise.config import load_project
    from stagewise.options import parse_overrides

    name = resolve_stage(stage, pr, branch)
    project = load_project()
    resolution = project.resolve(name, parse_overrides(set_))
    report = explain(project, resolution, local=local)
    if as_json:
        print(json.dumps(report, indent=2))
        return
    for line in report_lines(report):
        print(line)


def explain(project: Project, resolution: Resolution, *, local: bool = False) -> dict[str, Any]:
    """The stage as plain data (what --json prints)."""
    from stagewise.secrets import parameter_name
    from stagewise.stacks.naming import stack_name
    from stagewise.target import wants_local

    stage = resolution.config
    account = project.accounts[stage.account]
    on_local = wants_local(stage.name, local)
    if on_local:
        reached = f"the local cloud's simulated account {account.id} (--local)"
    elif account.role_arn:
        reached = f"role {account.role_arn}, assumed with " + (
            f"profile '{account.profile}'" if account.profile else "the default credential chain")
    elif account.profile:
        reached = f"profile '{account.profile}' (else the default credential chain, e.g. CI's OIDC role)"
    else:
        reached = "the default credential chain"
    infra_services = sorted(s.name for s in project.services.values() if s.infra)
    secret_paths = [parameter_name(project.app.name, stage.name, "*")]
    if stage.secrets_from:
        secret_paths.append(parameter_name(project.app.name, stage.secrets_from, "*"))
    settings = {
        key: {"value": getattr(stage, key), "from": resolution.sources[key]}
        for key in ("account", "region", "log_level", "memory", "timeout", "alarms", "protect",
                    "infra_from", "secrets_from", "domain")
    }
    return {
        "stage": stage.name,
        "kind": f"ephemeral, inherits {project.ephemeral.inherits}" if stage.ephemeral else "named",
        "account": {"name": stage.account, "id": account.id, "reached": reached,
                    "from": resolution.sources["account"]},
        "infra": {"stage": stage.infra_stage,
                  "stacks": [stack_name(project, stage.infra_stage, s) for s in infra_services],
                  "borrowed": stage.infra_from is not None},
        "secrets": {"own": stage.name, "falls_back_to": stage.secrets_from, "lookup": secret_paths},
        "settings": settings,
        "vars": {key: {"value": value, "from": resolution.var_sources[key]}
                 for key, value in sorted(stage.vars.items())},
    }


def report_lines(report: dict[str, Any]) -> list[str]:
    account, infra, secrets = report["account"], report["infra"], report["secrets"]
    lines = [
        f"stage    {report['stage']}  ({report['kind']})",
        f"account  {account['name']} ({account['id']}) via {account['reached']}  (from {account['from']})",
        "infra    " + (f"{infra['stage']}'s stacks" if infra["borrowed"] else "its own stacks")
        + (f": {', '.join(infra['stacks'])}" if infra["stacks"] else ""),
        "secrets  " + " then ".join(secrets["lookup"])
        + ("" if secrets["falls_back_to"] else "  (no fallback)"),
        "",
        "settings",
    ]
    lines += _table(report["settings"])
    lines += ["", "vars"]
    lines += _table(report["vars"]) if report["vars"] else ["  (none)"]
    return lines


def _table(rows: dict[str, dict[str, Any]]) -> list[str]:
    width = max(len(key) for key in rows)
    shown = {key: "-" if row["value"] is None else json.dumps(row["value"]) if isinstance(row["value"], bool)
             else str(row["value"]) for key, row in rows.items()}
    value_width = max(len(v) for v in shown.values())
    return [f"  {key:<{width}}  {shown[key]:<{value_width}}  {row['from']}" for key, row in rows.items()]


def register(app: typer.Typer) -> None:
    app.command("config")(config)
