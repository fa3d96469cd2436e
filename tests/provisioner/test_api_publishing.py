"""The app's real stage through the local provisioner: the API keeps serving its stage when a
route-adding service (billing-api) is removed or its update rolls back, because only the
generated notes-api-stage stack owns the Deployment and the Stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagewise.config import Project, parse_project
from stagewise.provisioner import DeployError, Provisioner
from stagewise.runtime import RuntimeModel
from stagewise.stacks import deploy_phases, removal_phases, render_stage, stack_name
from stagewise.stacks import render as render_module

REPO = Path(__file__).resolve().parents[2]
SERVICES = {
    "infra": {"path": "infra", "infra": True},
    "notes-api": "services/notes-api",
    "billing-api": "services/billing-api",
    "notify-job": "services/notify-job",
}


def project(*without: str) -> Project:
    manifest = {
        "app": {"name": "notes", "region": "us-east-1", "runtime": "python3.12"},
        "services": {name: spec for name, spec in SERVICES.items() if name not in without},
        "accounts": {"dev": {"id": "123456789012"}},
        "defaults": {"account": "dev", "vars": {"admin_phone": "+15555550100"}},
        "stages": {"dev": {}},
    }
    return parse_project(manifest, root=REPO, file=REPO / "stagewise.toml")


def deploy_stage(prov: Provisioner, app: Project, templates: dict | None = None) -> dict[str, dict[str, Any]]:
    """Every stack of `dev` in deploy order, as `stagewise deploy` runs them."""
    templates = templates or render_stage(app, app.stage("dev"))
    for phase in deploy_phases(templates):
        for service in phase:
            prov.deploy(stack_name(app, "dev", service), templates[service])
    return templates


def deployments(cloud: Any, prov: Provisioner) -> list[str]:
    api_id = prov.exports()["dev-notes-notes-api-RestApiId"]
    return [d["id"] for d in cloud.client("apigateway").get_deployments(restApiId=api_id)["items"]]


def served_deployment(cloud: Any, prov: Provisioner) -> str:
    """The deployment stage `dev` serves; fails unless the stage exists and its deployment does too."""
    api_id = prov.exports()["dev-notes-notes-api-RestApiId"]
    deployment = cloud.client("apigateway").get_stage(restApiId=api_id, stageName="dev")["deploymentId"]
    assert deployment in deployments(cloud, prov)
    return deployment


def failing_after(logical_ids: list[str]) -> dict[str, Any]:
    """A function Lambda refuses (its role does not exist), created after every one of `logical_ids`."""
    return {
        "Type": "AWS::Lambda::Function",
        "DependsOn": sorted(logical_ids),
        "Properties": {"Role": "arn:aws:iam::123456789012:role/does-not-exist", "Handler": "x.handler",
                       "Runtime": "python3.12", "Code": {"S3Bucket": "b", "S3Key": "k"}},
    }


def test_the_published_stage_serves_every_route_of_every_service(prov: Provisioner, cloud: Any) -> None:
    deploy_stage(prov, project())
    assert deployments(cloud, prov) == [served_deployment(cloud, prov)]  # one Deployment, of every route
    model = RuntimeModel.from_stacks(prov.list_stacks(), repo_root=REPO)
    (api,) = model.apis.values()
    assert api.stage == "dev"
    assert {("POST", "/billing"), ("GET", "/notes")} <= {(r.method, r.path) for r in api.routes}


def test_removing_billing_leaves_the_stage_serving(prov: Provisioner, cloud: Any) -> None:
    before = deploy_stage(prov, project())
    first = served_deployment(cloud, prov)
    # The stage without billing (and notify-job, which reads billing's topic): deploy what stays,
    # then delete what went, importers first — the order `stagewise deploy` / `remove` use.
    after = deploy_stage(prov, project("billing-api", "notify-job"))
    for phase in removal_phases(before):
        for service in phase:
            if service not in after:
                prov.delete(stack_name(project(), "dev", service))
    assert prov.describe("dev-notes-billing-api") is None
    assert deployments(cloud, prov) == [served_deployment(cloud, prov)] != [first]  # republished


def billing_preflight_allows_put(monkeypatch: pytest.MonkeyPatch) -> None:
    """A route change in billing-api's stack module: its OPTIONS /billing also allows PUT."""
    real_load = render_module.load_stack_module

    def load(service: Any) -> Any:
        module = real_load(service)
        if service.name == "billing-api":
            preflight = module.add_cors_preflight
            module.add_cors_preflight = lambda template, **kw: preflight(template, **{**kw, "verbs": [*kw["verbs"], "PUT"]})
        return module

    monkeypatch.setattr(render_module, "load_stack_module", load)


def test_a_rolled_back_billing_route_change_leaves_the_stage_serving_and_a_good_one_is_published(
    prov: Provisioner, cloud: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = project()
    deploy_stage(prov, app)
    served = served_deployment(cloud, prov)
    billing_preflight_allows_put(monkeypatch)
    changed = render_stage(app, app.stage("dev"))
    billing = changed["billing-api"]
    broken = {**billing, "Resources": {**billing["Resources"], "Boom": failing_after(list(billing["Resources"]))}}
    with pytest.raises(DeployError, match="UPDATE_ROLLBACK_COMPLETE"):
        prov.deploy("dev-notes-billing-api", broken)
    assert served_deployment(cloud, prov) == served
    deploy_stage(prov, app, changed)
    assert deployments(cloud, prov) == [served_deployment(cloud, prov)] != [served]
