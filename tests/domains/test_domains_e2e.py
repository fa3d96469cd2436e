"""A domain shared across accounts, end to end on the local cloud, as a user runs it.

prod's account owns `api.example.com`; `domains delegate --from prod --to dev` gives dev's account
`dev.api.example.com`; `deploy --pr 7` gives pr-7 `pr-7.dev.api.example.com` (certificate validated in
dev's zone, custom domain, base path mapping, alias record), prints both URLs and serves on both;
`remove --pr 7` leaves nothing of it; prod's own name resolves in prod's zone; `stagewise dev --stage
dev` answers a request whose Host is dev's domain.
"""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from stagewise.cloud import client
from stagewise.cloud.accounts import credentials
from stagewise.config import load_project
from stagewise.localstage import LocalStage
from stagewise.runtime import Runtime, RuntimeModel
from stagewise.target import target_for
from stagewise.testing import DevProcess, free_port
from tests.domains.conftest import DEV_ACCOUNT, DEV_DOMAIN, PROD_ACCOUNT, PROD_DOMAIN
from tests.pipeline.test_pr_stages import live_stacks

PR_DOMAIN = f"pr-7.{DEV_DOMAIN}"


def aws(cloud, account: str, service: str):
    return client(cloud.endpoint, account_id=account, region="us-east-1", service=service)


def get(port: int, path: str, host: str | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": host} if host else {})
        response = conn.getresponse()
        body = response.read()
        return response.status, json.loads(body) if body else {}
    finally:
        conn.close()


def lines_of(out: str) -> dict[str, str]:
    """`API  <url>` and `domain: <url>` lines of a deploy's output."""
    found = {}
    for line in out.splitlines():
        if line.startswith(("API  ", "domain: ")):
            found[line.split()[0].rstrip(":")] = line.split()[1]
    return found


def domain_in(cloud, account: str, name: str) -> dict | None:
    """The account's API Gateway custom domain `name` with its base path mappings, or None."""
    gateway = aws(cloud, account, "apigateway")
    try:
        domain = gateway.get_domain_name(domainName=name)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "NotFoundException"
        return None
    return {**domain, "mappings": gateway.get_base_path_mappings(domainName=name).get("items", [])}


def records_named(cloud, account: str, name: str) -> list[dict]:
    """Every record set of every zone of the account whose name is `name` or ends with `.name`."""
    route53 = aws(cloud, account, "route53")
    found = []
    for zone in route53.list_hosted_zones()["HostedZones"]:
        for record in route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]:
            if record["Name"].rstrip(".") == name or record["Name"].rstrip(".").endswith("." + name):
                found.append(record)
    return found


def certificates_for(cloud, account: str, name: str) -> list[dict]:
    acm = aws(cloud, account, "acm")
    return [acm.describe_certificate(CertificateArn=c["CertificateArn"])["Certificate"]
            for c in acm.list_certificates()["CertificateSummaryList"] if c["DomainName"] == name]


def resolve(cli, name: str) -> dict:  # noqa: F811
    code, out, err = cli("domains", "resolve", name, "--local", "--json")
    assert code == 0, err
    return json.loads(out)


def serve(cloud, project_dir: Path, stage: str) -> Runtime:
    """The local runtime over the stage's deployed stacks (what `stagewise dev` serves), on a free port."""
    project = load_project(project_dir / "stagewise.toml")
    config = project.stage(stage)
    states = LocalStage(project, config, target_for(project, config, local=True)).states()
    account = project.accounts[config.account].id
    runtime = Runtime(RuntimeModel.from_stacks(states, repo_root=project_dir), repo_root=project_dir,
                      worker_env={"AWS_ENDPOINT_URL": cloud.endpoint, **credentials(cloud.endpoint, account)},
                      region="us-east-1", log=lambda line: None, hot_reload=False)
    runtime.start(port=0)
    return runtime


def test_pr_7_gets_its_domain_in_devs_zone_serves_on_both_urls_and_remove_leaves_nothing(cli, cloud, project_dir):
    code, out, _ = cli("domains", "zone", "--stage", "prod", "--local", "--json")
    assert code == 0 and json.loads(out)["zone"] == PROD_DOMAIN and json.loads(out)["created"]
    code, out, _ = cli("domains", "delegate", "--from", "prod", "--to", "dev", "--local", "--json")
    delegated = json.loads(out)
    assert code == 0 and delegated["to"] == {**delegated["to"], "account": "dev", "zone": DEV_DOMAIN}
    again = json.loads(cli("domains", "delegate", "--from", "prod", "--to", "dev", "--local", "--json")[1])
    assert again["to"]["zone_id"] == delegated["to"]["zone_id"] and not again["to"]["created"]  # idempotent
    assert cli("bootstrap", "--account", "dev", "--local")[0] == 0
    assert cli("deploy", "--stage", "dev", "--local", "--yes")[0] == 0

    code, out, err = cli("deploy", "--pr", "7", "--local", "--yes")
    assert code == 0, out + err
    urls = lines_of(out)
    assert urls["API"].startswith("https://") and urls["API"].endswith("/pr-7")
    assert urls["domain"] == f"https://{PR_DOMAIN}/"
    assert "pr-7-shop-domain" in live_stacks(cloud, DEV_ACCOUNT, "pr-7-")

    # In dev's account: the certificate (issued by DNS in dev's zone), the custom domain, its mapping, the alias.
    api_id = urls["API"].split("//")[1].split(".")[0]
    domain = domain_in(cloud, DEV_ACCOUNT, PR_DOMAIN)
    assert domain is not None and domain["mappings"] == [{"basePath": "(none)", "restApiId": api_id, "stage": "pr-7"}]
    [certificate] = certificates_for(cloud, DEV_ACCOUNT, PR_DOMAIN)
    assert certificate["Status"] == "ISSUED" and domain["regionalCertificateArn"] == certificate["CertificateArn"]
    assert domain_in(cloud, PROD_ACCOUNT, PR_DOMAIN) is None  # nothing of a PR stage in prod's account

    # Public DNS walks prod's zone → the NS delegation → dev's zone → the alias to the custom domain.
    answer = resolve(cli, PR_DOMAIN)
    assert [(hop["account"], hop["zone"]) for hop in answer["hops"]] == [("prod", PROD_DOMAIN), ("dev", DEV_DOMAIN)]
    assert answer["alias"] and answer["value"] == domain["regionalDomainName"]

    runtime = serve(cloud, project_dir, "pr-7")
    try:
        port = int(runtime.url.rsplit(":", 1)[1].strip("/"))
        status, body = get(port, f"/restapis/{api_id}/pr-7/_user_request_/hello")  # the execute-api URL, locally
        assert (status, body["stage"]) == (200, "pr-7")
        status, body = get(port, "/hello", host=PR_DOMAIN)  # the domain URL
        assert (status, body["stage"], body["host"], body["path"]) == (200, "pr-7", PR_DOMAIN, "/hello")
    finally:
        runtime.stop()

    code, out, _ = cli("remove", "--pr", "7", "--local", "--yes")
    assert code == 0, out
    assert live_stacks(cloud, DEV_ACCOUNT, "pr-7-") == {}
    assert domain_in(cloud, DEV_ACCOUNT, PR_DOMAIN) is None  # the custom domain and its base path mapping
    assert records_named(cloud, DEV_ACCOUNT, PR_DOMAIN) == []  # the alias and the validation record
    assert certificates_for(cloud, DEV_ACCOUNT, PR_DOMAIN) == []
    assert domain_in(cloud, DEV_ACCOUNT, DEV_DOMAIN) is not None  # dev keeps its own


def test_prod_has_its_domain_in_its_own_account_and_dev_is_reached_through_the_delegation(cli, cloud):
    cli("domains", "zone", "--stage", "prod", "--local")
    cli("domains", "delegate", "--from", "prod", "--to", "dev", "--local")
    for account in ("dev", "prod"):
        assert cli("bootstrap", "--account", account, "--local")[0] == 0
        code, out, err = cli("deploy", "--stage", account, "--local", "--yes", "--json")
        assert code == 0, out + err
    assert json.loads(out)["domain_url"] == f"https://{PROD_DOMAIN}/"
    code, out, _ = cli("deploy", "--stage", "prod", "--local", "--json")  # the zone looked up again: same parameter
    assert code == 0 and json.loads(out)["result"] == "nothing-to-do"

    prod = domain_in(cloud, PROD_ACCOUNT, PROD_DOMAIN)
    assert prod is not None and prod["mappings"][0]["stage"] == "prod"
    assert domain_in(cloud, DEV_ACCOUNT, PROD_DOMAIN) is None
    answer = resolve(cli, PROD_DOMAIN)  # prod's own name: prod's own zone answers
    assert [hop["account"] for hop in answer["hops"]] == ["prod"] and answer["value"] == prod["regionalDomainName"]
    dev = domain_in(cloud, DEV_ACCOUNT, DEV_DOMAIN)
    answer = resolve(cli, DEV_DOMAIN)  # dev's name: from prod's zone through the NS record
    assert [hop["account"] for hop in answer["hops"]] == ["prod", "dev"]
    assert answer["value"] == dev["regionalDomainName"]


def test_dev_serves_the_stage_on_its_host_name(cli, cloud):
    cli("domains", "zone", "--stage", "prod", "--local")
    cli("domains", "delegate", "--from", "prod", "--to", "dev", "--local")
    dev = DevProcess(port=free_port(), cloud_port=cloud.port, stage="dev", extra_args=("--no-watch",))
    dev.start()
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, body = get(dev.port, "/hello", host=DEV_DOMAIN)
                break
            except OSError:
                assert dev.proc.poll() is None and time.monotonic() < deadline, dev.log()[-3000:]
                time.sleep(0.2)
        assert (status, body.get("stage"), body.get("host")) == (200, "dev", DEV_DOMAIN), (body, dev.log()[-3000:])
    finally:
        dev.stop()


@pytest.mark.parametrize(("args", "message"), [
    (("deploy", "--pr", "7"), "create one with `stagewise domains delegate --from prod --to dev --local`"),
    (("deploy", "--stage", "dev"), "create one with `stagewise domains delegate --from prod --to dev --local`"),
])
def test_deploy_without_a_zone_covering_the_domain_is_one_line_naming_the_fix_and_touches_nothing(
        cli, cloud, args, message):
    assert cli("bootstrap", "--account", "dev", "--local")[0] == 0
    aws(cloud, DEV_ACCOUNT, "route53").create_hosted_zone(Name="other.example.com", CallerReference="other")
    code, _, err = cli(*args, "--local", "--yes")
    assert code == 2 and message in err and "has no hosted zone that covers it" in err and "\n" not in err
    assert live_stacks(cloud, DEV_ACCOUNT, "") == {}


def test_prod_without_its_zone_names_the_zone_command(cli, cloud):
    assert cli("bootstrap", "--account", "prod", "--local")[0] == 0
    code, _, err = cli("deploy", "--stage", "prod", "--local", "--yes")
    assert code == 2 and "`stagewise domains zone --stage prod --local`" in err and "\n" not in err
    assert live_stacks(cloud, PROD_ACCOUNT, "") == {}


@pytest.mark.parametrize(("args", "message"), [
    (("delegate", "--from", "dev", "--to", "prod"), "prod's domain api.example.com is not under dev's domain"),
    (("delegate", "--from", "prod", "--to", "dev"), "account 'prod' has no hosted zone above dev.api.example.com "
                                                    "to delegate it from; create it with `stagewise domains zone "
                                                    "--stage prod --local`. Nothing was changed"),
    (("delegate", "--from", "dev", "--to", "pr-7"), "stages 'dev' and 'pr-7' share account 'dev': its zone of "
                                                    "dev.api.example.com already covers pr-7.dev.api.example.com"),
])
def test_bad_domains_input_is_one_line_and_changes_nothing(cli, cloud, args, message):
    code, _, err = cli("domains", *args, "--local")
    assert code == 2 and message in err and "\n" not in err
    for account in (DEV_ACCOUNT, PROD_ACCOUNT):
        assert aws(cloud, account, "route53").list_hosted_zones()["HostedZones"] == []
