"""ACM's DNS validation in the local cloud: a certificate is ISSUED once its validation records are in DNS.

moto 5 issues every requested certificate 60 s after the request, whatever DNS holds. AWS issues
it when ACM finds each name's validation CNAME in public DNS. `install()` (server process only)
replaces moto's timer with that rule, checked when the certificate is read (describe, get, list):
every name's CNAME (name and value as describe_certificate gives them) must be in a public hosted
zone of the certificate's account whose name covers it. The rule reads only journaled Route 53
state, so a replayed cloud reaches the same answer. Not emulated: the walk from the public root
through delegations (a record in a zone nobody delegated to still validates here).
"""

from __future__ import annotations

from typing import Any

PENDING, ISSUED = "PENDING_VALIDATION", "ISSUED"


def install() -> None:
    from moto.acm import models

    original = models.CertBundle.check
    if getattr(original, "_stagewise", False):
        return

    def check(self: Any) -> None:
        if self.type == "AMAZON_ISSUED" and self.status == PENDING:
            if validated(self):
                self.status = ISSUED
            return  # never by time alone
        original(self)

    check._stagewise = True  # type: ignore[attr-defined]
    models.CertBundle.check = check  # type: ignore[method-assign]


def validated(cert: Any) -> bool:
    """Every name's validation CNAME is in a public zone of the certificate's account that covers it."""
    options = cert.describe()["Certificate"].get("DomainValidationOptions") or []
    account_id = str(cert.arn).split(":")[4]  # arn:aws:acm:<region>:<account>:certificate/<id>
    return bool(options) and all(_in_dns(account_id, o["DomainName"], o["ResourceRecord"]) for o in options)


def _in_dns(account_id: str, domain: str, record: dict[str, str]) -> bool:
    from moto.route53.models import route53_backends

    from stagewise.domains import covers, normal

    backend = route53_backends[account_id]["aws"]
    for zone in list(backend.zones.values()):
        if zone.private_zone or not covers(zone.name, domain):
            continue
        for rrset in list(zone.rrsets):
            values = {normal(str(v.get("Value") if isinstance(v, dict) else v)) for v in rrset.records or []}
            if (rrset.type == record["Type"] and normal(rrset.name) == normal(record["Name"])
                    and normal(record["Value"]) in values):
                return True
    return False
