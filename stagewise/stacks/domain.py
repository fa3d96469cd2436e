"""A stage's custom domain: certificate, API Gateway domain name, base path mapping(s) and alias record.

Data flow (in `render_stage`, after publishing and alarms), for a stage with `domain`:

    every published REST API of the stage (publish.py)
      → its publishing stack `<owner>-stage` also exports its Stage's name (`StageName`), so the
        domain stack, importing it, deploys after the stage exists and is removed before it
      → a generated stack `<stage>-<app>-domain` (service key `domain`):
          Certificate      ACM, DNS-validated in the zone `HostedZoneId` (CloudFormation writes the
                           validation record there and waits for ISSUED)
          DomainName       REGIONAL API Gateway custom domain with that certificate
          BasePathMapping  the whole domain → the API's stage (several published APIs: one base
                           path per owner service)
          AliasRecord      A alias in the zone → the domain name's RegionalDomainName
        Outputs DomainUrl (`https://<domain>/`) and DomainName.

`HostedZoneId` is a template parameter: rendering makes no AWS call. The pipeline fills it with the
zone of the stage's account that covers the domain (`zone_parameters`), and stops with a one-line
error naming the `stagewise domains` command that creates it when there is none (stagewise/domains.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stagewise.config import Project, StageConfig
from stagewise.domains import require_zone, zone_fix
from stagewise.errors import UserError
from stagewise.stacks import naming
from stagewise.stacks.publish import PublishedApi, published_apis, publishing_service

if TYPE_CHECKING:
    from stagewise.target import Target

Template = dict[str, Any]

DOMAIN_SERVICE = "domain"
ZONE_PARAMETER = "HostedZoneId"
DOMAIN_URL = "DomainUrl"
STAGE_EXPORT = "StageName"
REGIONAL = "REGIONAL"


def add_domain(project: Project, stage: StageConfig, templates: dict[str, Template]) -> dict[str, Template]:
    """`templates` plus the stage's domain stack (publishing stacks export their stage); unchanged without a domain."""
    if not stage.domain:
        return templates
    naming.refuse_taken(project, templates, DOMAIN_SERVICE, holds=f"stage {stage.name}'s custom domain")
    apis = published_apis(project, stage, templates)
    if not apis:
        raise UserError(f"stage '{stage.name}' has domain {stage.domain} but publishes no REST API; publish one "
                        "with publish_api(ctx, template, api), or remove `domain` from the stage")
    result = dict(templates)
    for api in apis:
        publisher = publishing_service(api.owner)
        result[publisher] = with_stage_export(project, stage, result[publisher], publisher)
    result[DOMAIN_SERVICE] = domain_template(project, stage, apis)
    return result


def with_stage_export(project: Project, stage: StageConfig, template: Template, publisher: str) -> Template:
    export = naming.export_name(project=project, stage=stage.name, service=publisher, key=STAGE_EXPORT)
    output = {"Description": f"the API's stage; {naming.stack_name(project, stage, DOMAIN_SERVICE)} maps the "
                             "domain to it", "Value": {"Ref": "Stage"}, "Export": {"Name": export}}
    return {**template, "Outputs": {**(template.get("Outputs") or {}), STAGE_EXPORT: output}}


def domain_template(project: Project, stage: StageConfig, apis: list[PublishedApi]) -> Template:
    domain = str(stage.domain)
    zone = {"Ref": ZONE_PARAMETER}
    resources: dict[str, Any] = {
        "Certificate": {"Type": "AWS::CertificateManager::Certificate", "Properties": {
            "DomainName": domain, "ValidationMethod": "DNS",
            "DomainValidationOptions": [{"DomainName": domain, "HostedZoneId": zone}],
        }},
        "DomainName": {"Type": "AWS::ApiGateway::DomainName", "Properties": {
            "DomainName": domain, "RegionalCertificateArn": {"Ref": "Certificate"},
            "EndpointConfiguration": {"Types": [REGIONAL]}, "SecurityPolicy": "TLS_1_2",
        }},
        "AliasRecord": {"Type": "AWS::Route53::RecordSet", "Properties": {
            "HostedZoneId": zone, "Name": domain, "Type": "A",
            "AliasTarget": {"DNSName": {"Fn::GetAtt": ["DomainName", "RegionalDomainName"]},
                            "HostedZoneId": {"Fn::GetAtt": ["DomainName", "RegionalHostedZoneId"]}},
        }},
    }
    for api in apis:
        publisher = publishing_service(api.owner)
        mapping: dict[str, Any] = {
            "DomainName": {"Ref": "DomainName"},
            "RestApiId": {"Fn::ImportValue": api.export},
            "Stage": {"Fn::ImportValue": naming.export_name(project=project, stage=stage.name, service=publisher,
                                                            key=STAGE_EXPORT)},
        }
        if len(apis) > 1:  # one API owns the whole domain; several share it by base path
            mapping["BasePath"] = api.owner
        resources[_mapping_id(api, len(apis))] = {"Type": "AWS::ApiGateway::BasePathMapping", "Properties": mapping}
    stack = naming.stack_name(project, stage, DOMAIN_SERVICE)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{stack}: https://{domain}/ for stage {stage.name} (certificate, custom domain, "
                       "base path mapping, alias record)",
        "Metadata": {"stagewise": {"stage": stage.name, "app": project.app.name, "service": DOMAIN_SERVICE}},
        "Parameters": {ZONE_PARAMETER: {
            "Type": "String", "AllowedPattern": "^[A-Z0-9]{1,32}$",
            "Description": f"the hosted zone of the stage's account that covers {domain} (filled by stagewise)",
        }},
        "Resources": resources,
        "Outputs": {
            DOMAIN_URL: {"Description": "the stage's API on its custom domain", "Value": f"https://{domain}/"},
            "DomainName": {"Description": "the custom domain", "Value": {"Ref": "DomainName"}},
        },
    }


def _mapping_id(api: PublishedApi, count: int) -> str:
    if count == 1:
        return "BasePathMapping"
    return "".join(word.capitalize() for word in api.owner.replace("_", "-").split("-")) + "BasePathMapping"


def zone_parameters(template: Template, *, project: Project, stage: StageConfig, target: Target) -> dict[str, str]:
    """The domain stack's `HostedZoneId`: the zone of the stage's account covering its domain (a one-line
    error naming the `stagewise domains` command that makes it when there is none); {} for other stacks."""
    if ZONE_PARAMETER not in (template.get("Parameters") or {}) or _service(template) != DOMAIN_SERVICE:
        return {}
    zone = require_zone(target.client("route53"), stage=stage.name, account=stage.account, domain=str(stage.domain),
                        fix=zone_fix(project, stage, local=target.local))
    return {ZONE_PARAMETER: zone.id}


def _service(template: Template) -> str:
    return ((template.get("Metadata") or {}).get("stagewise") or {}).get("service", "")
