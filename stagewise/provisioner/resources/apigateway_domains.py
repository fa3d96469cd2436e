"""AWS::ApiGateway::DomainName (Ref = the domain name) and AWS::ApiGateway::BasePathMapping.

DomainName: a REGIONAL custom domain with `RegionalCertificateArn` (or an EDGE one with
`CertificateArn`). As API Gateway does, a create is refused when the name exists already or the
certificate is not ISSUED or does not cover the name (moto checks neither). GetAtt
RegionalDomainName / RegionalHostedZoneId (what the alias record points at),
DistributionDomainName / DistributionHostedZoneId. moto has no UpdateDomainName: any change but
Tags replaces, and since the name is custom, a change that keeps the name is refused (rename).

BasePathMapping: `BasePath` ('' or absent = "(none)", the whole domain) → RestApiId + Stage;
RestApiId and Stage are updated in place (update_base_path_mapping), DomainName and BasePath replace.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from stagewise.provisioner.errors import DeployError
from stagewise.provisioner.resources.base import Provisioned, ResourceType, register
from stagewise.provisioner.state import ResourceState

NO_BASE_PATH = "(none)"


@register
class DomainName(ResourceType):
    type_name = "AWS::ApiGateway::DomainName"
    properties = frozenset({"DomainName", "RegionalCertificateArn", "CertificateArn", "EndpointConfiguration",
                            "SecurityPolicy", "Tags"})
    required = frozenset({"DomainName"})
    replace_on = properties - {"Tags"}
    attributes = frozenset({"RegionalDomainName", "RegionalHostedZoneId", "DistributionDomainName",
                            "DistributionHostedZoneId"})
    name_property = "DomainName"

    def create(self, props: dict[str, Any]) -> Provisioned:
        name = props["DomainName"]
        gateway = self.ctx.client("apigateway")
        try:
            gateway.get_domain_name(domainName=name)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NotFoundException":
                raise
        else:
            raise self._failed(f"the domain name {name} already exists")
        certificate = props.get("RegionalCertificateArn") or props.get("CertificateArn")
        if not certificate:
            raise self._failed(f"{name} needs RegionalCertificateArn (REGIONAL) or CertificateArn (EDGE)")
        self._check_certificate(name, certificate)
        types = (props.get("EndpointConfiguration") or {}).get("Types") or (
            ["REGIONAL"] if props.get("RegionalCertificateArn") else ["EDGE"])
        request: dict[str, Any] = {"domainName": name, "endpointConfiguration": {"types": list(types)}}
        if props.get("RegionalCertificateArn"):
            request["regionalCertificateArn"] = props["RegionalCertificateArn"]
        if props.get("CertificateArn"):
            request["certificateArn"] = props["CertificateArn"]
        if props.get("SecurityPolicy"):
            request["securityPolicy"] = props["SecurityPolicy"]
        made = gateway.create_domain_name(**request)
        return Provisioned(physical_id=name, attributes={
            "RegionalDomainName": made.get("regionalDomainName", ""),
            "RegionalHostedZoneId": made.get("regionalHostedZoneId", ""),
            "DistributionDomainName": made.get("distributionDomainName", ""),
            "DistributionHostedZoneId": made.get("distributionHostedZoneId", ""),
        })

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))  # Tags only

    def delete(self, current: ResourceState) -> None:
        try:
            self.ctx.client("apigateway").delete_domain_name(domainName=current.physical_id)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NotFoundException":
                raise

    def _check_certificate(self, name: str, arn: str) -> None:
        try:
            cert = self.ctx.client("acm").describe_certificate(CertificateArn=arn)["Certificate"]
        except ClientError as exc:
            raise self._failed(f"certificate {arn} is not in account {self.ctx.account_id}") from exc
        if cert["Status"] != "ISSUED":
            raise self._failed(f"certificate {arn} is {cert['Status']}, not ISSUED")
        names = [cert.get("DomainName", ""), *(cert.get("SubjectAlternativeNames") or [])]
        if not any(_matches(pattern, name) for pattern in names):
            raise self._failed(f"certificate {arn} ({', '.join(sorted(set(names)))}) does not cover {name}")

    def _failed(self, reason: str) -> DeployError:
        return DeployError(f"{self.ctx.logical_id}: {reason}", logical_id=self.ctx.logical_id, reason=reason)


def _matches(pattern: str, name: str) -> bool:
    """A certificate name covers `name`: equal, or a wildcard `*.x` for exactly one label above x."""
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest.lower() == pattern[2:].lower()
    return pattern.lower() == name.lower()


@register
class BasePathMapping(ResourceType):
    type_name = "AWS::ApiGateway::BasePathMapping"
    properties = frozenset({"DomainName", "BasePath", "RestApiId", "Stage", "Id"})
    required = frozenset({"DomainName", "RestApiId"})
    replace_on = frozenset({"DomainName", "BasePath", "Id"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        request = {"domainName": props["DomainName"], "restApiId": props["RestApiId"]}
        if props.get("BasePath"):
            request["basePath"] = props["BasePath"]
        if props.get("Stage"):
            request["stage"] = props["Stage"]
        made = self.ctx.client("apigateway").create_base_path_mapping(**request)
        return Provisioned(physical_id=f"{props['DomainName']}/{made.get('basePath') or NO_BASE_PATH}")

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        operations = [{"op": "replace", "path": path, "value": str(props.get(key) or "")}
                      for key, path in (("RestApiId", "/restapiId"), ("Stage", "/stage"))
                      if current.properties.get(key) != props.get(key)]
        if operations:
            self.ctx.client("apigateway").update_base_path_mapping(
                domainName=props["DomainName"], basePath=props.get("BasePath") or NO_BASE_PATH,
                patchOperations=operations)
        return Provisioned(physical_id=current.physical_id)

    def delete(self, current: ResourceState) -> None:
        domain, _, base_path = current.physical_id.rpartition("/")
        try:
            self.ctx.client("apigateway").delete_base_path_mapping(domainName=domain, basePath=base_path)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NotFoundException":
                raise
