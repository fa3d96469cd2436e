"""The parts of a stage's custom domain: naming (config), the generated stack (cfn-lint), the zone
rules, ACM's DNS validation in the local cloud and the provisioner's types against it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagewise.cloud import client
from stagewise.config import load_project
from stagewise.domains import (
    covering_zone,
    covers,
    ensure_zone,
    remove_validation_records,
    require_zone,
    zone_fix,
)
from stagewise.errors import UserError
from stagewise.provisioner import Provisioner
from stagewise.provisioner.errors import DeployError
from stagewise.stacks.domain import DOMAIN_SERVICE, ZONE_PARAMETER
from stagewise.stacks.render import render_stage
from tests.domains.conftest import DEV_ACCOUNT, DEV_DOMAIN, PROD_DOMAIN

ACCOUNT = DEV_ACCOUNT


@pytest.fixture
def project(project_dir: Path):
    return load_project(project_dir / "stagewise.toml")


def aws(cloud, service: str):
    return client(cloud.endpoint, account_id=ACCOUNT, region="us-east-1", service=service)


def test_pr_and_feature_stages_get_a_name_under_the_domain_they_inherit(project) -> None:
    assert project.stage("dev").domain == DEV_DOMAIN and project.stage("prod").domain == PROD_DOMAIN
    resolution = project.resolve("pr-7")
    assert resolution.config.domain == f"pr-7.{DEV_DOMAIN}" and resolution.sources["domain"] == "pr-7. + [stages.dev]"
    assert project.stage("pr-7", {"domain": "preview.example.com"}).domain == "preview.example.com"  # --set as given


def test_zone_fix_names_the_delegation_for_a_stage_of_a_child_account_and_the_zone_for_the_top(project) -> None:
    assert zone_fix(project, project.stage("pr-7"), local=True) == "stagewise domains delegate --from prod --to dev --local"
    assert zone_fix(project, project.stage("dev"), local=False) == "stagewise domains delegate --from prod --to dev"
    assert zone_fix(project, project.stage("prod"), local=False) == "stagewise domains zone --stage prod"


@pytest.mark.parametrize(("zone", "name", "expected"), [
    ("dev.api.example.com", "pr-7.dev.api.example.com", True),
    ("dev.api.example.com.", "DEV.api.example.com", True),
    ("api.example.com", "dev.api.example.com", True),
    ("dev.api.example.com", "api.example.com", False),
    ("api.example.com", "badapi.example.com", False),  # a suffix, not a parent
])
def test_covers(zone: str, name: str, expected: bool) -> None:
    assert covers(zone, name) is expected


def test_the_domain_stack_is_cfn_lint_clean_and_maps_the_published_api_after_its_stage(project) -> None:
    from cfnlint.api import ManualArgs, lint

    templates = render_stage(project, project.stage("pr-7"))
    domain = templates[DOMAIN_SERVICE]
    assert lint(json.dumps(domain), config=ManualArgs(regions=["us-east-1"])) == []
    assert sorted(r["Type"] for r in domain["Resources"].values()) == [
        "AWS::ApiGateway::BasePathMapping", "AWS::ApiGateway::DomainName", "AWS::CertificateManager::Certificate",
        "AWS::Route53::RecordSet"]
    stage_export = templates["web-stage"]["Outputs"]["StageName"]["Export"]["Name"]
    assert domain["Resources"]["BasePathMapping"]["Properties"]["Stage"] == {"Fn::ImportValue": stage_export}
    assert ZONE_PARAMETER in domain["Parameters"]
    without = project.stage("pr-7").model_copy(update={"domain": None})
    assert DOMAIN_SERVICE not in render_stage(project, without) and "StageName" not in render_stage(
        project, without)["web-stage"].get("Outputs", {})


def test_the_zone_covering_a_domain_is_the_longest_and_a_missing_one_names_the_fix(cloud) -> None:
    route53 = aws(cloud, "route53")
    with pytest.raises(UserError, match=r"account 'dev' has no hosted zone that covers it; create one with `fix`"):
        require_zone(route53, stage="pr-7", account="dev", domain=f"pr-7.{DEV_DOMAIN}", fix="fix")
    top, _ = ensure_zone(route53, PROD_DOMAIN, comment="test")
    child, created = ensure_zone(route53, DEV_DOMAIN, comment="test")
    assert created and ensure_zone(route53, DEV_DOMAIN, comment="test") == (child, False)  # idempotent
    assert covering_zone(route53, f"pr-7.{DEV_DOMAIN}").id == child.id
    assert covering_zone(route53, PROD_DOMAIN).id == top.id
    assert covering_zone(route53, "example.com") is None


def test_the_local_acm_issues_a_certificate_only_once_its_validation_record_is_in_a_covering_zone(cloud) -> None:
    route53, acm = aws(cloud, "route53"), aws(cloud, "acm")
    other, _ = ensure_zone(route53, "other.example.com", comment="test")
    zone, _ = ensure_zone(route53, DEV_DOMAIN, comment="test")
    arn = acm.request_certificate(DomainName=DEV_DOMAIN, ValidationMethod="DNS")["CertificateArn"]
    record = acm.describe_certificate(CertificateArn=arn)["Certificate"]["DomainValidationOptions"][0]["ResourceRecord"]

    def put(zone_id: str, name: str) -> None:
        route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [{
            "Action": "UPSERT", "ResourceRecordSet": {"Name": name, "Type": "CNAME", "TTL": 300,
                                                      "ResourceRecords": [{"Value": record["Value"]}]}}]})

    put(other.id, "_x.other.example.com")  # the right value in a zone that does not cover the name
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "PENDING_VALIDATION"
    put(zone.id, record["Name"])
    assert acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"


def certificate(zone_id: str, name: str) -> dict:
    return {"Resources": {"Certificate": {"Type": "AWS::CertificateManager::Certificate", "Properties": {
        "DomainName": name, "ValidationMethod": "DNS",
        "DomainValidationOptions": [{"DomainName": name, "HostedZoneId": zone_id}]}}}}


def test_a_certificate_in_a_zone_that_does_not_cover_its_name_fails_with_the_reason_and_requests_nothing(cloud) -> None:
    other, _ = ensure_zone(aws(cloud, "route53"), "other.example.com", comment="test")
    prov = Provisioner(lambda service: aws(cloud, service), account_id=ACCOUNT, region="us-east-1")
    with pytest.raises(DeployError, match=r"\(other.example.com\) does not cover dev.api.example.com"):
        prov.deploy("certs", certificate(other.id, DEV_DOMAIN), {})
    assert aws(cloud, "acm").list_certificates()["CertificateSummaryList"] == []


def test_a_certificate_writes_its_validation_record_is_issued_and_delete_leaves_the_record_as_cloudformation_does(
        cloud) -> None:
    route53 = aws(cloud, "route53")
    zone, _ = ensure_zone(route53, DEV_DOMAIN, comment="test")
    prov = Provisioner(lambda service: aws(cloud, service), account_id=ACCOUNT, region="us-east-1")
    state = prov.deploy("certs", certificate(zone.id, f"pr-7.{DEV_DOMAIN}"), {})
    arn = state.resources["Certificate"].physical_id
    assert aws(cloud, "acm").describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
    cnames = [r for r in route53.list_resource_record_sets(HostedZoneId=zone.id)["ResourceRecordSets"]
              if r["Type"] == "CNAME"]
    assert [r["Name"].split(".", 1)[1] for r in cnames] == [f"pr-7.{DEV_DOMAIN}."]
    prov.delete("certs")
    acm = aws(cloud, "acm")
    assert acm.list_certificates()["CertificateSummaryList"] == []
    assert [r["Type"] for r in route53.list_resource_record_sets(HostedZoneId=zone.id)["ResourceRecordSets"]] == [
        "NS", "SOA", "CNAME"]  # cloudformation-coverage-roadmap#1603
    assert remove_validation_records(route53, acm, f"pr-7.{DEV_DOMAIN}") == [cnames[0]["Name"].rstrip(".")]
    assert [r["Type"] for r in route53.list_resource_record_sets(HostedZoneId=zone.id)["ResourceRecordSets"]] == [
        "NS", "SOA"]


def test_a_validation_record_another_certificate_of_the_name_uses_is_kept(cloud) -> None:
    route53, acm = aws(cloud, "route53"), aws(cloud, "acm")
    zone, _ = ensure_zone(route53, DEV_DOMAIN, comment="test")
    prov = Provisioner(lambda service: aws(cloud, service), account_id=ACCOUNT, region="us-east-1")
    prov.deploy("one", certificate(zone.id, DEV_DOMAIN), {})
    prov.deploy("two", certificate(zone.id, DEV_DOMAIN), {})  # ACM gives both the same record
    prov.delete("one")
    assert remove_validation_records(route53, acm, DEV_DOMAIN) == []
    assert aws(cloud, "acm").describe_certificate(CertificateArn=prov.describe("two").resources[
        "Certificate"].physical_id)["Certificate"]["Status"] == "ISSUED"


def test_a_service_named_domain_collides_with_the_generated_stack(project_dir: Path) -> None:
    manifest = project_dir / "stagewise.toml"
    manifest.write_text(manifest.read_text().replace('web = "services/web"', 'web = "services/web"\ndomain = "services/job"'))
    project = load_project(manifest)
    with pytest.raises(UserError, match="service 'domain' collides with the stack that holds stage dev's custom domain"):
        render_stage(project, project.stage("dev"))
