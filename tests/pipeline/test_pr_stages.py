"""PR and branch stages end to end on the local cloud: `deploy --pr 7` makes `pr-7` in the dev account
on dev's infra and prints its URL; `remove --pr 7` leaves nothing of it (listed from the simulated
account through the local CloudFormation API)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from stagewise.cloud import client
from stagewise.config import stage_name_for_branch
from tests.pipeline.test_cli import cli  # noqa: F401  (the fixture: the CLI against the test's cloud)

DEV_ACCOUNT = "111111111111"
PROD_ACCOUNT = "222222222222"
WEB_STACK = '''
"""web: a REST API whose URL the stage prints (the fixture's other stacks have none)."""
from troposphere import Sub, Template, apigateway


def build(ctx):
    t = Template()
    api = t.add_resource(apigateway.RestApi("Api", Name=ctx.name("web")))
    ctx.export(t, "ApiUrl", Sub(f"https://${{{api.title}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{ctx.stage.name}"))
    return t
'''


@pytest.fixture
def with_web(project_dir: Path) -> Path:
    (project_dir / "services" / "web").mkdir()
    (project_dir / "services" / "web" / "stack.py").write_text(textwrap.dedent(WEB_STACK))
    manifest = project_dir / "stagewise.toml"
    manifest.write_text(manifest.read_text().replace('job = "services/job"', 'job = "services/job"\nweb = "services/web"'))
    return project_dir


def live_stacks(cloud, account: str, prefix: str) -> dict[str, str]:
    """Every stack of the simulated account whose name starts with `prefix`, as CloudFormation lists it."""
    cfn = client(cloud.endpoint, account_id=account, region="us-east-1", service="cloudformation")
    return {stack["StackName"]: stack["StackStatus"] for stack in cfn.describe_stacks()["Stacks"]
            if stack["StackName"].startswith(prefix) and stack["StackStatus"] != "DELETE_COMPLETE"}


def exports(cloud, account: str, prefix: str) -> list[str]:
    cfn = client(cloud.endpoint, account_id=account, region="us-east-1", service="cloudformation")
    return [e["Name"] for e in cfn.list_exports()["Exports"] if e["Name"].startswith(prefix)]


def test_deploy_pr_makes_pr_n_on_devs_infra_prints_its_url_and_remove_pr_leaves_nothing(cli, cloud, with_web):  # noqa: F811
    assert cli("bootstrap", "--account", "dev", "--local")[0] == 0
    code, out, _ = cli("deploy", "--stage", "dev", "--local", "--yes")
    assert code == 0, out

    code, out, err = cli("deploy", "--pr", "7", "--local", "--yes")
    assert code == 0, out + err
    assert "deploy pr-7: succeeded" in out
    url = next(line.split()[1] for line in out.splitlines() if line.startswith("API  "))
    assert url.startswith("https://") and url.endswith("/pr-7")

    stacks = live_stacks(cloud, DEV_ACCOUNT, "pr-7-")
    assert sorted(stacks) == ["pr-7-shop-api", "pr-7-shop-job", "pr-7-shop-web"]  # no infra of its own
    assert all(status.endswith("_COMPLETE") for status in stacks.values())
    cfn = client(cloud.endpoint, account_id=DEV_ACCOUNT, region="us-east-1", service="cloudformation")
    importers = cfn.list_imports(ExportName="dev-shop-infra-TopicArn")["Imports"]
    assert "pr-7-shop-api" in importers  # it runs on dev's infra
    assert live_stacks(cloud, PROD_ACCOUNT, "pr-7-") == {}  # and never in prod's account

    code, out, _ = cli("config", "--pr", "7", "--json")
    report = json.loads(out)
    assert code == 0 and report["infra"]["stage"] == "dev" and report["account"]["id"] == DEV_ACCOUNT

    code, out, _ = cli("remove", "--pr", "7", "--local", "--yes")
    assert code == 0, out
    assert "remove pr-7: succeeded" in out
    assert live_stacks(cloud, DEV_ACCOUNT, "pr-7-") == {}
    assert exports(cloud, DEV_ACCOUNT, "pr-7-") == []
    assert sorted(live_stacks(cloud, DEV_ACCOUNT, "dev-")) == [  # dev is untouched
        "dev-shop-api", "dev-shop-infra", "dev-shop-job", "dev-shop-web"]


def test_deploy_and_remove_branch_use_the_same_collision_safe_name(cli, cloud, with_web):  # noqa: F811
    branch = "refs/heads/feature/a-very-long-branch-name-for-testing-collisions"
    stage = stage_name_for_branch(branch)
    assert stage != stage_name_for_branch("feature/a-very-long-branch-name-for-testing-other")
    cli("bootstrap", "--account", "dev", "--local")
    assert cli("deploy", "--stage", "dev", "--local", "--yes")[0] == 0

    code, out, err = cli("deploy", "--branch", branch, "--local", "--yes", "--json")
    assert code == 0, out + err
    result = json.loads(out)
    assert result["stage"] == stage and result["url"].endswith(f"/{stage}")
    assert len(live_stacks(cloud, DEV_ACCOUNT, f"{stage}-")) == 3

    code, out, _ = cli("remove", "--branch", "feature/a-very-long-branch-name-for-testing-collisions", "--local", "--yes")
    assert code == 0, out
    assert live_stacks(cloud, DEV_ACCOUNT, f"{stage}-") == {}


@pytest.mark.parametrize(("args", "message"), [
    (("deploy", "--pr", "0"), "'0' is not a positive integer"),
    (("deploy", "--pr", "seven"), "'seven' is not a positive integer"),
    (("deploy", "--branch", "--//--"), "no letters or digits"),
    (("deploy", "--pr", "7", "--stage", "pr-7"), "exactly one of --stage NAME, --pr N or --branch BRANCH"),
    (("deploy",), "exactly one of"),
    (("remove", "pr-7", "--pr", "7"), "give exactly one of STAGE, --pr N or --branch BRANCH (got STAGE and --pr)"),
    (("remove", "--pr", "-1"), "not a positive integer"),
])
def test_bad_pr_and_branch_input_is_one_line_and_touches_nothing(cli, cloud, args, message):  # noqa: F811
    code, _, err = cli(*args, "--local", "--yes")
    assert code == 2 and message in err and "\n" not in err
    assert live_stacks(cloud, DEV_ACCOUNT, "") == {}
