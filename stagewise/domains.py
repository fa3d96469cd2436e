"""Hosted zones of a stage's account: which zone covers a domain, making a zone, delegating a child zone.

Data flow: a Route 53 client of one account → `zones()` (its public hosted zones) → `covering_zone`
(the longest zone name that is the domain or one of its parents) → the `HostedZoneId` the stage's
domain stack needs (`require_zone`, a one-line error naming the `stagewise domains` command that
fixes it when there is none). `delegate(parent, child, name)` makes the child account's zone if it
has none and UPSERTs the NS record for it in the parent account's zone; both steps are idempotent.

A domain shared across accounts: prod's account owns `api.example.com`; `delegate` gives the dev
account `dev.api.example.com` and writes its name servers into prod's zone, so a resolver walking
from prod's zone reaches dev's (docs/domains.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from stagewise.errors import UserError

NS_TTL = 172800  # Route 53's default TTL of a zone's own NS record (two days)


@dataclass(frozen=True)
class Zone:
    id: str  # without the /hostedzone/ prefix
    name: str  # without the trailing dot
    name_servers: tuple[str, ...] = ()


def normal(name: str) -> str:
    """A DNS name in lower case without its trailing dot (Route 53 answers `api.example.com.`)."""
    return name.strip().rstrip(".").lower()


def covers(zone_name: str, domain: str) -> bool:
    """True when `domain` is `zone_name` or a name under it (`a.b.example.com` under `example.com`)."""
    zone, name = normal(zone_name), normal(domain)
    return name == zone or name.endswith("." + zone)


def zones(route53: Any) -> list[Zone]:
    """The account's public hosted zones."""
    found = []
    for page in route53.get_paginator("list_hosted_zones").paginate():
        for zone in page["HostedZones"]:
            if not (zone.get("Config") or {}).get("PrivateZone"):
                found.append(Zone(zone["Id"].rsplit("/", 1)[-1], normal(zone["Name"])))
    return found


def covering_zone(route53: Any, domain: str) -> Zone | None:
    """The account's zone with the longest name that covers `domain`, if any."""
    candidates = [zone for zone in zones(route53) if covers(zone.name, domain)]
    return max(candidates, key=lambda zone: len(zone.name), default=None)


def require_zone(route53: Any, *, stage: str, account: str, domain: str, fix: str) -> Zone:
    """The zone covering the stage's domain in its account, or a one-line error naming the fix."""
    zone = covering_zone(route53, domain)
    if zone is None:
        raise UserError(f"stage '{stage}' has domain {domain}, and account '{account}' has no hosted zone "
                        f"that covers it; create one with `{fix}`, or remove `domain` from the stage. "
                        "Nothing was deployed")
    return zone


def ensure_zone(route53: Any, name: str, *, comment: str) -> tuple[Zone, bool]:
    """The account's zone named exactly `name`, made if missing; (zone, created)."""
    name = normal(name)
    for zone in zones(route53):
        if zone.name == name:
            return with_name_servers(route53, zone), False
    # The caller reference makes a retried create (a lost answer) the same request, not a second zone.
    reference = "stagewise-" + hashlib.sha256(name.encode()).hexdigest()[:16]
    made = route53.create_hosted_zone(Name=name, CallerReference=reference, HostedZoneConfig={"Comment": comment})
    zone = Zone(made["HostedZone"]["Id"].rsplit("/", 1)[-1], name, tuple(made["DelegationSet"]["NameServers"]))
    return zone, True


def with_name_servers(route53: Any, zone: Zone) -> Zone:
    answer = route53.get_hosted_zone(Id=zone.id)
    return Zone(zone.id, zone.name, tuple((answer.get("DelegationSet") or {}).get("NameServers") or ()))


def delegate(parent: Any, child: Any, *, name: str, parent_account: str, fix: str) -> tuple[Zone, Zone, bool]:
    """Make the child account's zone `name` (if missing) and UPSERT its NS record in the parent account's
    covering zone. Returns (parent zone, child zone, whether the child zone was created)."""
    name = normal(name)
    upper = covering_zone(parent, name)
    if upper is None or upper.name == name:
        raise UserError(f"account '{parent_account}' has no hosted zone above {name} to delegate it from; "
                        f"create it with `{fix}`. Nothing was changed")
    zone, created = ensure_zone(child, name, comment=f"delegated from {upper.name} (stagewise domains delegate)")
    parent.change_resource_record_sets(HostedZoneId=upper.id, ChangeBatch={
        "Comment": f"delegate {name} to its own zone",
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": {
            "Name": name + ".", "Type": "NS", "TTL": NS_TTL,
            "ResourceRecords": [{"Value": server} for server in zone.name_servers],
        }}],
    })
    return upper, zone, created


def records(route53: Any, zone: Zone) -> list[dict[str, Any]]:
    """Every record set of the zone, as Route 53 lists them."""
    found: list[dict[str, Any]] = []
    for page in route53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zone.id):
        found += page["ResourceRecordSets"]
    return found


def zone_fix(project: Any, stage: Any, *, local: bool) -> str:
    """The `stagewise domains` command that gives the stage's account a zone covering its domain.

    The zone belongs to the named stage of that account whose domain covers the stage's (dev for
    pr-7); when a stage of another account has a domain above it (prod's), that zone is delegated
    from there, else it is a zone of its own."""
    flag = " --local" if local else ""
    named = {name: project.stage(name) for name in project.stages}
    domain = str(stage.domain)
    own = [s for s in named.values() if s.account == stage.account and s.domain and covers(s.domain, domain)]
    owner = min(own, key=lambda s: len(str(s.domain)), default=stage)
    above = [s for s in named.values() if s.account != owner.account and s.domain
             and covers(s.domain, str(owner.domain)) and normal(s.domain) != normal(str(owner.domain))]
    if above:
        parent = max(above, key=lambda s: len(str(s.domain)))
        return f"stagewise domains delegate --from {parent.name} --to {owner.name}{flag}"
    return f"stagewise domains zone --stage {owner.name}{flag}"


ACM_VALIDATION_SUFFIX = ".acm-validations.aws"


def remove_validation_records(route53: Any, acm: Any, domain: str) -> list[str]:
    """Delete ACM's validation CNAMEs of `domain` from the zone covering it once no certificate of the
    account names it; returns their names. CloudFormation leaves them when it deletes a certificate
    (cloudformation-coverage-roadmap#1603), so every removed PR stage would leave one behind; ACM
    reuses the record for another certificate of the same name, hence the check."""
    domain = normal(domain)
    zone = covering_zone(route53, domain)
    if zone is None or any(domain in _names(summary) for page in acm.get_paginator("list_certificates").paginate()
                           for summary in page["CertificateSummaryList"]):
        return []
    stale = [record for record in records(route53, zone) if _validates(record, domain)]
    if stale:
        route53.change_resource_record_sets(HostedZoneId=zone.id, ChangeBatch={
            "Comment": f"ACM validation of {domain}: no certificate names it any more",
            "Changes": [{"Action": "DELETE", "ResourceRecordSet": record} for record in stale]})
    return [normal(record["Name"]) for record in stale]


def _names(summary: dict[str, Any]) -> set[str]:
    return {normal(n) for n in [summary.get("DomainName", ""), *(summary.get("SubjectAlternativeNameSummaries") or [])]}


def _validates(record: dict[str, Any], domain: str) -> bool:
    """An ACM validation CNAME of `domain`: `_<token>.<domain>` → `….acm-validations.aws`."""
    label, _, rest = normal(record["Name"]).partition(".")
    values = [normal(v["Value"]) for v in record.get("ResourceRecords") or []]
    return (record["Type"] == "CNAME" and label.startswith("_") and rest == domain and bool(values)
            and all(value.endswith(ACM_VALIDATION_SUFFIX) for value in values))
