"""Publishing a shared REST API: one generated stack per stage owns its Deployment and its Stage,
deploys after every stack that adds routes, and redeploys when any route of any service changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagewise.errors import UserError
from stagewise.stacks import deploy_phases, removal_phases, render_stage
from stagewise.stacks import render as render_module
from tests.stacks.conftest import STAGES, write_project

PUBLISHER = "notes-api-stage"


def of_type(templates: dict[str, dict[str, Any]], type_name: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(service, lid, res) for service, t in templates.items()
            for lid, res in t["Resources"].items() if res["Type"] == type_name]


def deployment_id(templates: dict[str, dict[str, Any]]) -> str:
    ((_, lid, _),) = of_type(templates, "AWS::ApiGateway::Deployment")
    return lid


@pytest.mark.parametrize("stage", STAGES)
def test_exactly_one_stack_of_a_stage_owns_the_apis_deployment_and_stage(rendered, stage: str) -> None:
    templates = rendered[stage]
    ((service, lid, deployment),) = of_type(templates, "AWS::ApiGateway::Deployment")
    ((stage_owner, _, stage_res),) = of_type(templates, "AWS::ApiGateway::Stage")
    api_id = {"Fn::ImportValue": f"{stage}-notes-notes-api-RestApiId"}
    assert service == stage_owner == PUBLISHER
    assert stage_res["Properties"] == {
        "RestApiId": api_id, "DeploymentId": {"Ref": lid}, "StageName": stage, "TracingEnabled": True}
    assert deployment["Properties"]["RestApiId"] == api_id
    assert "DependsOn" not in deployment  # every part lives in another stack: the imports order it


def test_the_publisher_deploys_after_every_route_adding_stack_and_goes_first_on_removal(rendered) -> None:
    phases = deploy_phases(rendered["dev"])
    at = {service: i for i, phase in enumerate(phases) for service in phase}
    assert at[PUBLISHER] > max(at["notes-api"], at["billing-api"])
    removed = {service: i for i, phase in enumerate(removal_phases(rendered["dev"])) for service in phase}
    assert removed[PUBLISHER] < min(removed["notes-api"], removed["billing-api"])  # only the domain (its importer) goes before
    assert removed["domain"] < removed[PUBLISHER]
    billing = rendered["dev"]["billing-api"]["Outputs"]["ApiRoutesNotesApi"]
    assert billing["Export"]["Name"] == "dev-notes-billing-api-ApiRoutesNotesApi"
    assert billing["Value"] == {"Ref": "AWS::StackName"}  # stable: an imported export cannot change


def _render_with(project, monkeypatch, service: str, change) -> dict[str, dict[str, Any]]:
    """The dev stage rendered with `change(template)` applied to `service`'s troposphere Template."""
    real = render_module.load_stack_module

    def load(svc):
        module = real(svc)
        if svc.name == service:
            build = module.build

            def changed_build(ctx):
                template = build(ctx)
                change(template)
                return template

            module.build = changed_build
        return module

    monkeypatch.setattr(render_module, "load_stack_module", load)
    return render_stage(project, project.stage("dev"))


def _billing_takes_put(template):
    template.resources["BillingMethod"].HttpMethod = "PUT"


def _notes_loses_a_gateway_response(template):
    del template.resources["Default5XxResponse"]


@pytest.mark.parametrize(("service", "change"), [("billing-api", _billing_takes_put),
                                                  ("notes-api", _notes_loses_a_gateway_response)])
def test_a_route_change_in_any_service_makes_a_new_deployment_the_stage_points_at(
    project, rendered, monkeypatch, service, change
) -> None:
    changed = _render_with(project, monkeypatch, service, change)
    new = deployment_id(changed)
    assert new != deployment_id(rendered["dev"])
    assert changed[PUBLISHER]["Resources"]["Stage"]["Properties"]["DeploymentId"] == {"Ref": new}


def test_new_function_code_does_not_redeploy_the_api(project, rendered) -> None:
    artifacts = {"billing-api": {"Billing": {"bucket": "b", "key": "billing-api/new.zip"}}}
    assert deployment_id(render_stage(project, project.stage("dev"), artifacts=artifacts)) == deployment_id(rendered["dev"])


OWNER = """
from troposphere import Template, apigateway
from stagewise.stacks.api import publish_api

def build(ctx):
    template = Template()
    api = template.add_resource(apigateway.RestApi("Api", Name=ctx.name("api")))
    template.add_resource(apigateway.Method("RootGet", RestApiId=api.ref(), ResourceId=api.get_att("RootResourceId"),
                                            HttpMethod="GET", AuthorizationType="NONE",
                                            Integration=apigateway.Integration(Type="MOCK")))
    publish_api(ctx, template, api)
    return template
"""

ADDER = """
from troposphere import Template, apigateway

def build(ctx):
    template = Template()
    api = ctx.import_value("web", "ApiId")
    template.add_resource(apigateway.Resource("Jobs", RestApiId=api, ParentId="root", PathPart="jobs"))
    {extra}
    return template
"""
OWN_DEPLOYMENT = 'template.add_resource(apigateway.Deployment("Mine", RestApiId=api, StageName=ctx.stage.name))'


def test_any_project_gets_a_publisher_per_published_api_named_after_its_owner_and_stage(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"web": OWNER, "jobs": ADDER.format(extra="")})
    templates = render_stage(project, project.stage("pr-3"))
    assert set(templates) == {"web", "jobs", "web-stage"}
    assert deploy_phases(templates) == [["web"], ["jobs"], ["web-stage"]]
    stage = templates["web-stage"]["Resources"]["Stage"]["Properties"]
    assert stage["StageName"] == "pr-3" and stage["RestApiId"] == {"Fn::ImportValue": "pr-3-demo-web-ApiId"}
    assert templates["web"]["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"].endswith("/pr-3")


def test_a_stack_may_not_deploy_a_published_api_itself(tmp_path: Path) -> None:
    project = write_project(tmp_path, {"web": OWNER, "jobs": ADDER.format(extra=OWN_DEPLOYMENT)})
    with pytest.raises(UserError, match="jobs/Mine: a AWS::ApiGateway::Deployment on web's published API"):
        render_stage(project, project.stage("dev"))


def test_an_api_nobody_publishes_gets_no_publisher(tmp_path: Path) -> None:
    unpublished = OWNER.replace("    publish_api(ctx, template, api)\n", "")
    project = write_project(tmp_path, {"web": unpublished})
    assert set(render_stage(project, project.stage("dev"))) == {"web"}
