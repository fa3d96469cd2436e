"""AWS::Route53::RecordSet (Ref = the record's name).

Create is a `CREATE` change (a record that exists already fails, as in CloudFormation); an update is
an `UPSERT`; delete is a `DELETE` of exactly the recorded set (a record already gone is fine). The
zone is `HostedZoneId`, or found by `HostedZoneName` in the account. Name, Type and the zone
replace the record. Route 53 (and moto) refuse a name the zone does not cover
(`InvalidChangeBatch`). Supported: plain records (TTL + ResourceRecords) and alias records
(AliasTarget: DNSName, HostedZoneId, EvaluateTargetHealth).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from stagewise.domains import normal, zones
from stagewise.provisioner.errors import DeployError
from stagewise.provisioner.resources.base import Provisioned, ResourceType, is_true, register
from stagewise.provisioner.state import ResourceState


@register
class RecordSet(ResourceType):
    type_name = "AWS::Route53::RecordSet"
    properties = frozenset({"HostedZoneId", "HostedZoneName", "Name", "Type", "TTL", "ResourceRecords",
                            "AliasTarget", "Comment"})
    required = frozenset({"Name", "Type"})
    replace_on = frozenset({"HostedZoneId", "HostedZoneName", "Name", "Type"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        zone = self._zone(props)
        self._change(zone, "CREATE", props)
        return Provisioned(physical_id=normal(props["Name"]), attributes={"HostedZoneId": zone})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        zone = current.attributes.get("HostedZoneId") or self._zone(props)
        if current.properties != props:
            self._change(zone, "UPSERT", props)
        return Provisioned(physical_id=current.physical_id, attributes={"HostedZoneId": zone})

    def delete(self, current: ResourceState) -> None:
        zone = current.attributes.get("HostedZoneId") or self._zone(current.properties)
        try:
            self._change(zone, "DELETE", current.properties)
        except ClientError as exc:  # already gone (or changed by hand since): nothing of ours to delete
            if exc.response.get("Error", {}).get("Code") not in ("InvalidChangeBatch", "NoSuchHostedZone"):
                raise

    def _zone(self, props: dict[str, Any]) -> str:
        if props.get("HostedZoneId"):
            return str(props["HostedZoneId"]).rsplit("/", 1)[-1]
        wanted = normal(str(props.get("HostedZoneName") or ""))
        for zone in zones(self.ctx.client("route53")):
            if zone.name == wanted:
                return zone.id
        raise DeployError(f"{self.ctx.logical_id}: no hosted zone named {wanted or '(none given)'} in account "
                          f"{self.ctx.account_id}; give HostedZoneId or HostedZoneName of an existing zone",
                          logical_id=self.ctx.logical_id, reason="hosted zone not found")

    def _change(self, zone: str, action: str, props: dict[str, Any]) -> None:
        self.ctx.client("route53").change_resource_record_sets(HostedZoneId=zone, ChangeBatch={
            "Comment": props.get("Comment") or f"{self.ctx.stack_name}/{self.ctx.logical_id}",
            "Changes": [{"Action": action, "ResourceRecordSet": record_set(props)}],
        })


def record_set(props: dict[str, Any]) -> dict[str, Any]:
    """Route 53's ResourceRecordSet from the template's properties."""
    record: dict[str, Any] = {"Name": normal(props["Name"]) + ".", "Type": props["Type"]}
    alias = props.get("AliasTarget")
    if alias:
        record["AliasTarget"] = {"DNSName": alias["DNSName"], "HostedZoneId": alias["HostedZoneId"],
                                 "EvaluateTargetHealth": is_true(alias.get("EvaluateTargetHealth", False))}
    else:
        record["TTL"] = int(props.get("TTL", 300))
        record["ResourceRecords"] = [{"Value": str(value)} for value in props.get("ResourceRecords") or []]
    return record
