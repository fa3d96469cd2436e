"""Resolving a name the way public DNS would, through the hosted zones of every account of the project.

Data flow: {account name: Route 53 client} → every public zone of every account (with its name
servers) → start at the zone with the shortest name covering the name (the one the registrar
points at; two accounts holding it is ambiguous) → in each zone, an NS record above or at the
name (not the zone's own) delegates: follow it to the zone of that name whose name servers are
the record's values → else the zone's A / AAAA / CNAME record of the name answers (an alias A
gives its target's DNS name). Every hop is kept: a test (or `stagewise domains resolve`) sees
prod's zone → the NS delegation → dev's zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stagewise.domains import Zone, covers, normal, records, with_name_servers, zones
from stagewise.errors import UserError

MAX_HOPS = 16
ANSWER_TYPES = ("A", "AAAA", "CNAME")


@dataclass(frozen=True)
class Hop:
    account: str
    zone: str  # zone name
    zone_id: str


@dataclass(frozen=True)
class Answer:
    name: str
    hops: tuple[Hop, ...]
    type: str  # A, AAAA or CNAME
    value: str  # the alias target's DNS name, or the record's first value
    alias: bool

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "value": self.value, "alias": self.alias,
                "hops": [{"account": h.account, "zone": h.zone, "zone_id": h.zone_id} for h in self.hops]}


def resolve(route53: Mapping[str, Any], name: str) -> Answer:
    """The answer for `name`, walking from the top zone through delegations; UserError when it does not resolve."""
    name = normal(name)
    every = [(account, with_name_servers(client, zone)) for account, client in sorted(route53.items())
             for zone in zones(client)]
    covering = [(account, zone) for account, zone in every if covers(zone.name, name)]
    if not covering:
        raise UserError(f"{name} does not resolve: no account ({', '.join(sorted(route53))}) has a hosted zone "
                        "above it; create one with `stagewise domains zone --stage <stage>`")
    top = min(len(zone.name) for _, zone in covering)
    account, zone = _only(name, [(a, z) for a, z in covering if len(z.name) == top])
    hops: list[Hop] = []
    for _ in range(MAX_HOPS):
        hops.append(Hop(account, zone.name, zone.id))
        found = records(route53[account], zone)
        delegation = _delegation(found, zone, name)
        if delegation is not None:
            child, servers = delegation
            account, zone = _only(name, [(a, z) for a, z in every
                                         if z.name == child and {normal(s) for s in z.name_servers} == servers])
            continue
        for record in found:
            if normal(record["Name"]) == name and record["Type"] in ANSWER_TYPES:
                alias = record.get("AliasTarget")
                value = alias["DNSName"] if alias else (record.get("ResourceRecords") or [{}])[0].get("Value", "")
                return Answer(name, tuple(hops), record["Type"], normal(value), bool(alias))
        raise UserError(f"{name} does not resolve: zone {zone.name} of account '{account}' has no A, AAAA or "
                        "CNAME record of that name (NXDOMAIN); deploy the stage that has this domain")
    raise UserError(f"{name} does not resolve: more than {MAX_HOPS} delegations (a loop)")


def _delegation(found: list[dict[str, Any]], zone: Zone, name: str) -> tuple[str, set[str]] | None:
    """(child zone name, its name servers) of the longest NS record in `zone` above or at `name`."""
    delegations = [r for r in found if r["Type"] == "NS" and normal(r["Name"]) != zone.name
                   and covers(r["Name"], name)]
    if not delegations:
        return None
    record = max(delegations, key=lambda r: len(normal(r["Name"])))
    return normal(record["Name"]), {normal(v["Value"]) for v in record.get("ResourceRecords") or []}


def _only(name: str, candidates: list[tuple[str, Zone]]) -> tuple[str, Zone]:
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise UserError(f"{name} does not resolve: a delegation points at name servers no account's zone has "
                        "(lame delegation); run `stagewise domains delegate` again")
    accounts = ", ".join(f"'{a}'" for a, _ in candidates)
    raise UserError(f"{name} is ambiguous: accounts {accounts} each have zone {candidates[0][1].name} with the same "
                    "name servers; delete the one nobody delegates to")
