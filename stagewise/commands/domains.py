"""`stagewise domains zone | delegate | list | resolve`: the hosted zones behind the stages' custom domains.

    zone --stage prod                 the zone of prod's `domain` in prod's account (made if missing) and
                                      its name servers (what the registrar must point at)
    delegate --from prod --to dev     dev's account gets the zone of dev's domain; prod's zone gets its NS record
    list                              every account's zones and the stages whose domains they cover
    resolve NAME                      walk the zones as public DNS would (local cloud: the simulated accounts)

Each takes --local (the simulated accounts of the local cloud) and --json.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from stagewise.errors import UserError
from stagewise.options import JsonOption, LocalOption

if TYPE_CHECKING:
    from stagewise.config import Project, StageConfig

domains_app = typer.Typer(
    help="Hosted zones for the stages' custom domains: make one, delegate a child zone to another account, "
    "list them, resolve a name through them.\n\n"
    "Example:  stagewise domains zone --stage prod && stagewise domains delegate --from prod --to dev",
    no_args_is_help=True,
)


def _stage_with_domain(project: Project, name: str) -> StageConfig:
    stage = project.stage(name)
    if not stage.domain:
        raise UserError(f"stage '{name}' has no domain; set domain = \"...\" under [stages.{name}] in {project.file}")
    return stage


def _route53(project: Project, stage: StageConfig, local: bool) -> Any:
    from stagewise.target import target_for

    return target_for(project, stage, local=local).client("route53")


def _show(value: dict[str, Any], lines: list[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps(value, indent=2))
    else:
        print("\n".join(lines))


@domains_app.command("zone")
def zone(
    stage: Annotated[str, typer.Option("--stage", "-s", help="The stage whose domain gets a zone of its own.")],
    as_json: JsonOption = False,
    local: LocalOption = False,
) -> None:
    """Make (or show) the hosted zone of a stage's domain in the stage's account; prints its name servers.

    Example:  stagewise domains zone --stage prod      (then point the registrar's NS records at the servers shown)
    """
    from stagewise.config import load_project
    from stagewise.domains import ensure_zone

    project = load_project()
    config = _stage_with_domain(project, stage)
    made, created = ensure_zone(_route53(project, config, local), str(config.domain),
                                comment=f"{project.app.name} {stage} (stagewise domains zone)")
    value = {"stage": stage, "account": config.account, "zone": made.name, "zone_id": made.id,
             "created": created, "name_servers": list(made.name_servers)}
    lines = [f"zone {made.name} ({made.id}) in account '{config.account}': {'created' if created else 'exists'}",
             "name servers (the NS records the registrar of the parent domain must hold):",
             *(f"  {server}" for server in made.name_servers)]
    _show(value, lines, as_json)


@domains_app.command("delegate")
def delegate(
    parent: Annotated[str, typer.Option("--from", help="The stage whose account's zone covers the other's domain.")],
    child: Annotated[str, typer.Option("--to", help="The stage whose account gets a zone of its own domain.")],
    as_json: JsonOption = False,
    local: LocalOption = False,
) -> None:
    """Give the --to stage's account the zone of its domain, delegated from the --from stage's zone (NS record).

    Example:  stagewise domains delegate --from prod --to dev     (dev.api.example.com in dev's account)
    """
    from stagewise.config import load_project
    from stagewise.domains import covers, normal
    from stagewise.domains import delegate as delegate_zone

    project = load_project()
    upper, lower = _stage_with_domain(project, parent), _stage_with_domain(project, child)
    if not covers(str(upper.domain), str(lower.domain)) or normal(str(upper.domain)) == normal(str(lower.domain)):
        raise UserError(f"{child}'s domain {lower.domain} is not under {parent}'s domain {upper.domain}; "
                        f"set [stages.{child}] domain to a name under it (e.g. {child}.{upper.domain})")
    if upper.account == lower.account:
        raise UserError(f"stages '{parent}' and '{child}' share account '{upper.account}': its zone of "
                        f"{upper.domain} already covers {lower.domain}; nothing to delegate")
    flag = " --local" if local else ""
    parent_zone, zone_made, created = delegate_zone(
        _route53(project, upper, local), _route53(project, lower, local), name=str(lower.domain),
        parent_account=upper.account, fix=f"stagewise domains zone --stage {parent}{flag}")
    value = {"from": {"stage": parent, "account": upper.account, "zone": parent_zone.name, "zone_id": parent_zone.id},
             "to": {"stage": child, "account": lower.account, "zone": zone_made.name, "zone_id": zone_made.id,
                    "created": created, "name_servers": list(zone_made.name_servers)}}
    lines = [f"zone {zone_made.name} ({zone_made.id}) in account '{lower.account}': "
             f"{'created' if created else 'exists'}",
             f"NS {zone_made.name} → {', '.join(zone_made.name_servers)} in {parent_zone.name} "
             f"({parent_zone.id}) of account '{upper.account}': upserted"]
    _show(value, lines, as_json)


@domains_app.command("list")
def list_zones(as_json: JsonOption = False, local: LocalOption = False) -> None:
    """List the hosted zones of every account that a stage with a domain lives in, and the domains they cover.

    Example:  stagewise domains list --local --json | jq '.[] | {account, zone}'
    """
    from stagewise.config import load_project
    from stagewise.domains import covering_zone, zones

    project = load_project()
    rows = []
    for account, (_, client) in sorted(_clients_by_account(project, local).items()):
        for found in sorted(zones(client), key=lambda z: z.name):
            covered = sorted(s for s, config in _named(project).items() if config.account == account
                             and config.domain and covering_zone(client, str(config.domain)) == found)
            rows.append({"account": account, "zone": found.name, "zone_id": found.id, "covers": covered})
    lines = [f"{r['account']:<10} {r['zone']:<32} {r['zone_id']:<26} {', '.join(r['covers']) or '-'}" for r in rows]
    _show(rows, lines or ["no hosted zones in the accounts of stages with a domain"], as_json)  # type: ignore[arg-type]


@domains_app.command("resolve")
def resolve(
    name: Annotated[str, typer.Argument(help="The host name to resolve, e.g. pr-7.dev.api.example.com.")],
    as_json: JsonOption = False,
    local: LocalOption = False,
) -> None:
    """Resolve a name through the accounts' zones as public DNS would: the zones walked and the answer.

    Example:  stagewise domains resolve pr-7.dev.api.example.com --local
    """
    from stagewise.config import load_project
    from stagewise.domains_resolve import resolve as walk

    project = load_project()
    answer = walk({account: client for account, (_, client) in _clients_by_account(project, local).items()}, name)
    lines = [" → ".join(f"{hop.zone} ({hop.account})" for hop in answer.hops),
             f"{answer.name} {answer.type}{' alias' if answer.alias else ''} {answer.value}"]
    _show(answer.to_json(), lines, as_json)


def _named(project: Project) -> dict[str, StageConfig]:
    return {name: project.stage(name) for name in project.stages}


def _clients_by_account(project: Project, local: bool) -> dict[str, tuple[str, Any]]:
    """account → (a stage with a domain there, its Route 53 client)."""
    found: dict[str, tuple[str, Any]] = {}
    for name, config in sorted(_named(project).items()):
        if config.domain and config.account not in found:
            found[config.account] = (name, _route53(project, config, local))
    return found


def register(app: typer.Typer) -> None:
    app.add_typer(domains_app, name="domains")
