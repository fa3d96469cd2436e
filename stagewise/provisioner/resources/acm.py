"""AWS::CertificateManager::Certificate (Ref = the certificate's ARN), validated by DNS as CloudFormation does.

With `ValidationMethod: DNS` and a `DomainValidationOptions` entry (DomainName + HostedZoneId) for
every name, CloudFormation writes ACM's validation CNAME into that zone itself and waits until
ACM says ISSUED. So does this: request_certificate → each name's validation record UPSERTed into
its zone → describe_certificate until ISSUED (the local cloud's ACM issues a certificate once every
validation record is in a zone of the account that covers its name: stagewise/cloud/acm_validation.py).
A zone that does not cover the name, or a name without a HostedZoneId (CloudFormation would wait for
someone to add the record), fails the resource with the reason, and what it made is deleted.
Delete removes the certificate and, as CloudFormation, leaves its validation records in the zone
(`stagewise remove` deletes a removed stage's: domains.remove_validation_records). Any change but
Tags replaces.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from stagewise.domains import covers, normal
from stagewise.provisioner.errors import DeployError
from stagewise.provisioner.resources.base import Provisioned, ResourceType, register, tags_list
from stagewise.provisioner.state import ResourceState

ISSUE_WAIT_S = 30.0  # CloudFormation waits hours; the local cloud issues at the next describe
POLL_S = 0.1


@register
class Certificate(ResourceType):
    type_name = "AWS::CertificateManager::Certificate"
    properties = frozenset({"DomainName", "SubjectAlternativeNames", "ValidationMethod", "DomainValidationOptions",
                            "CertificateTransparencyLoggingPreference", "KeyAlgorithm", "Tags"})
    required = frozenset({"DomainName"})
    replace_on = properties - {"Tags"}

    def create(self, props: dict[str, Any]) -> Provisioned:
        if props.get("ValidationMethod", "DNS") != "DNS":
            raise self._failed("only ValidationMethod DNS is emulated (EMAIL needs someone to click a link)")
        zones = self._zones(props)  # checked before anything is requested
        acm = self.ctx.client("acm")
        request: dict[str, Any] = {"DomainName": props["DomainName"], "ValidationMethod": "DNS"}
        if props.get("SubjectAlternativeNames"):
            request["SubjectAlternativeNames"] = list(props["SubjectAlternativeNames"])
        if props.get("Tags"):
            request["Tags"] = tags_list(props)
        arn = acm.request_certificate(**request)["CertificateArn"]
        written: list[dict[str, str]] = []
        try:
            written = self._write_validation_records(arn, zones)
            self._wait_issued(arn)
        except BaseException:
            self._remove(arn, written)
            raise
        return Provisioned(physical_id=arn)

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))  # Tags only

    def delete(self, current: ResourceState) -> None:
        self._remove(current.physical_id, [])  # the validation records stay, as CloudFormation leaves them

    def _zones(self, props: dict[str, Any]) -> dict[str, tuple[str, str]]:
        """name → (zone id, zone name) for every name of the certificate; refuses a zone that does not cover it."""
        options = {normal(o.get("DomainName", "")): o for o in props.get("DomainValidationOptions") or []}
        route53 = self.ctx.client("route53")
        found: dict[str, tuple[str, str]] = {}
        for name in [props["DomainName"], *(props.get("SubjectAlternativeNames") or [])]:
            zone_id = str((options.get(normal(name)) or {}).get("HostedZoneId") or "").rsplit("/", 1)[-1]
            if not zone_id:
                raise self._failed(f"{name} has no HostedZoneId in DomainValidationOptions; CloudFormation would "
                                   "wait until someone adds its validation record")
            try:
                zone_name = normal(route53.get_hosted_zone(Id=zone_id)["HostedZone"]["Name"])
            except ClientError as exc:
                raise self._failed(f"hosted zone {zone_id} for {name} is not in account {self.ctx.account_id}") from exc
            if not covers(zone_name, name):
                raise self._failed(f"hosted zone {zone_id} ({zone_name}) does not cover {name}, so ACM cannot "
                                   "validate it there; use the zone of that name or one of its parents")
            found[normal(name)] = (zone_id, zone_name)
        return found

    def _write_validation_records(self, arn: str, zones: dict[str, tuple[str, str]]) -> list[dict[str, str]]:
        options = self.ctx.client("acm").describe_certificate(CertificateArn=arn)["Certificate"].get(
            "DomainValidationOptions") or []
        written = []
        for option in options:
            record = option.get("ResourceRecord")
            if not record:
                continue
            zone_id = zones[normal(option["DomainName"])][0]
            entry = {"HostedZoneId": zone_id, "Name": record["Name"], "Type": record["Type"], "Value": record["Value"]}
            self._change("UPSERT", entry)
            written.append(entry)
        return written

    def _wait_issued(self, arn: str) -> None:
        acm = self.ctx.client("acm")
        deadline = time.monotonic() + ISSUE_WAIT_S
        while True:
            status = acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"]
            if status == "ISSUED":
                return
            if status != "PENDING_VALIDATION" or time.monotonic() > deadline:
                raise self._failed(f"certificate {arn} is {status}: ACM could not validate it by DNS")
            time.sleep(POLL_S)

    def _remove(self, arn: str, written: list[dict[str, str]]) -> None:
        try:
            self.ctx.client("acm").delete_certificate(CertificateArn=arn)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
        for entry in written:
            try:
                self._change("DELETE", entry)
            except ClientError as exc:  # already gone
                if exc.response.get("Error", {}).get("Code") not in ("InvalidChangeBatch", "NoSuchHostedZone"):
                    raise

    def _change(self, action: str, entry: dict[str, str]) -> None:
        self.ctx.client("route53").change_resource_record_sets(HostedZoneId=entry["HostedZoneId"], ChangeBatch={
            "Comment": f"ACM validation of {self.ctx.stack_name}/{self.ctx.logical_id}",
            "Changes": [{"Action": action, "ResourceRecordSet": {
                "Name": entry["Name"], "Type": entry["Type"], "TTL": 300,
                "ResourceRecords": [{"Value": entry["Value"]}]}}],
        })

    def _failed(self, reason: str) -> DeployError:
        return DeployError(f"{self.ctx.logical_id}: {reason}", logical_id=self.ctx.logical_id, reason=reason)
