"""Publishing a shared REST API: one stack per published API owns its Deployment and its Stage.

Why: a Stage points at one Deployment, and a Deployment is a snapshot of every route of the API
at the time it is made. When several stacks add routes to one API, the snapshot must be taken
after all of them, and only one stack may own the Deployment and the Stage — otherwise removing
or rolling back a route-adding stack deletes the deployment the stage serves.

Data flow (in `render_stage`, after every service's template is rendered):

    owner's RestApi with Metadata.stagewise.publish   (api.publish_api)
    every API part (Resource, Method, Authorizer, GatewayResponse, ...) on that API, in any stack
        → each other route-adding stack gets an export `ApiRoutes<Owner>` (its stack name)
        → a generated stack `<stage>-<app>-<owner>-stage`: `Deployment<digest of every part>` and
          the `Stage` (the owner's stage properties); it imports the API id and every
          `ApiRoutes<Owner>`, so the deploy order puts it after all of them and removal before them.

The owner keeps the `ApiUrl` output (the URL is the API id and the stage name, known there), so
`stagewise outputs` and the pipeline find it where they always did.

A route change in any stack changes the digest, so the next deploy makes a new Deployment and
points the Stage at it; the old one is deleted by the same stack after the Stage moved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stagewise.config import Project, StageConfig
from stagewise.errors import UserError
from stagewise.stacks import naming

Template = dict[str, Any]

PUBLISH_KEY = "publish"  # RestApi Metadata.stagewise.publish = the Stage's properties
PUBLISHING_SUFFIX = "-stage"
ROUTES_KEY = "ApiRoutes"
OWNED_BY_PUBLISHER = ("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage")


@dataclass(frozen=True)
class PublishedApi:
    owner: str  # the service whose template holds the RestApi
    logical_id: str
    export: str  # the export holding its id (`<stage>-<app>-<owner>-<LogicalId>Id`)
    stage_properties: dict[str, Any]

    def refers_to(self, service: str, value: Any) -> bool:
        """True when a RestApiId value in `service`'s template names this API."""
        own = service == self.owner and value == {"Ref": self.logical_id}
        return own or value == {"Fn::ImportValue": self.export}


def publishing_service(owner: str) -> str:
    """The generated stack's service part: `notes-api` → `notes-api-stage`."""
    return owner + PUBLISHING_SUFFIX


def routes_key(owner: str) -> str:
    """The export a route-adding stack gets for the API of `owner`: `notes-api` → `ApiRoutesNotesApi`."""
    return ROUTES_KEY + "".join(word.capitalize() for word in owner.replace("_", "-").split("-"))


def id_export_key(logical_id: str) -> str:
    return f"{logical_id}Id"


def add_publishing(project: Project, stage: StageConfig, templates: dict[str, Template]) -> dict[str, Template]:
    """`templates` plus one publishing stack per published API (route-adding templates get their export)."""
    published = dict(templates)
    for api in published_apis(project, stage, templates):
        name = publishing_service(api.owner)
        if name in project.services:
            raise UserError(f"service {name} collides with the stack that publishes {api.owner}'s API; rename it")
        parts = api_parts(api, templates)
        adders = sorted(service for service in parts if service != api.owner)
        for service in adders:
            published[service] = with_routes_export(project, stage, templates[service], api)
        published[name] = publishing_template(project, stage, api, parts, adders)
    return published


def published_apis(project: Project, stage: StageConfig, templates: Mapping[str, Template]) -> list[PublishedApi]:
    apis = []
    for service, template in sorted(templates.items()):
        marked = [
            (lid, res) for lid, res in (template.get("Resources") or {}).items()
            if res.get("Type") == "AWS::ApiGateway::RestApi" and PUBLISH_KEY in _stagewise(res)
        ]
        if len(marked) > 1:
            raise UserError(f"{service} publishes {len(marked)} REST APIs; a stack publishes one (move the other)")
        for lid, res in marked:
            export = naming.export_name(project=project, stage=stage.name, service=service, key=id_export_key(lid))
            apis.append(PublishedApi(service, lid, export, dict(_stagewise(res)[PUBLISH_KEY])))
    return apis


def api_parts(api: PublishedApi, templates: Mapping[str, Template]) -> dict[str, dict[str, Any]]:
    """service → {logical id: resource} of every API Gateway resource on `api` (its snapshot's content)."""
    parts: dict[str, dict[str, Any]] = {}
    for service, template in sorted(templates.items()):
        for lid, res in sorted((template.get("Resources") or {}).items()):
            if not str(res.get("Type", "")).startswith("AWS::ApiGateway::"):
                continue
            itself = service == api.owner and lid == api.logical_id  # its settings are in the snapshot too
            if not itself and not api.refers_to(service, (res.get("Properties") or {}).get("RestApiId")):
                continue
            if res["Type"] in OWNED_BY_PUBLISHER:
                raise UserError(
                    f"{service}/{lid}: a {res['Type']} on {api.owner}'s published API; the stack "
                    f"{publishing_service(api.owner)} owns its Deployment and Stage, remove this one"
                )
            parts.setdefault(service, {})[lid] = res
    return parts


def digest(parts: Mapping[str, Mapping[str, Any]]) -> str:
    """12 hex digits of every part (service, logical id, resource): a Deployment id that changes with them."""
    body = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:12]


def with_routes_export(project: Project, stage: StageConfig, template: Template, api: PublishedApi) -> Template:
    """A copy of a route-adding template exporting its stack name, for the publisher to import (order)."""
    key = routes_key(api.owner)
    export = naming.export_name(project=project, stage=stage.name, service=_service(template), key=key)
    output = {
        "Description": f"this stack adds routes to {api.owner}'s API; {publishing_service(api.owner)} imports "
                       "it so it deploys after them",
        "Value": {"Ref": "AWS::StackName"},
        "Export": {"Name": export},
    }
    return {**template, "Outputs": {**(template.get("Outputs") or {}), key: output}}


def publishing_template(
    project: Project, stage: StageConfig, api: PublishedApi, parts: Mapping[str, Any], adders: list[str]
) -> Template:
    service = publishing_service(api.owner)
    stack = naming.stack_name(project, stage, service)
    api_id = {"Fn::ImportValue": api.export}
    version = digest(parts)
    deployment = f"Deployment{version}"
    # The imports of the route-adding stacks order this stack after them; the description says so.
    routes_of = [{"Fn::ImportValue": _routes_export(project, stage, adder, api)} for adder in adders]
    description = {"Fn::Join": [" ", [f"{stack} {version}: routes of {api.owner}", *routes_of]]}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{stack}: publishes {api.owner}'s API to stage {stage.name} with every route "
                       f"of {', '.join(sorted(parts))}",
        "Metadata": {"stagewise": {"stage": stage.name, "app": project.app.name, "service": service}},
        "Resources": {
            deployment: {
                "Type": "AWS::ApiGateway::Deployment",
                "Properties": {"RestApiId": api_id, "Description": description},
            },
            "Stage": {
                "Type": "AWS::ApiGateway::Stage",
                "Properties": {
                    **api.stage_properties,
                    "RestApiId": api_id,
                    "DeploymentId": {"Ref": deployment},
                    "StageName": stage.name,
                },
            },
        },
    }


def _routes_export(project: Project, stage: StageConfig, service: str, api: PublishedApi) -> str:
    return naming.export_name(project=project, stage=stage.name, service=service, key=routes_key(api.owner))


def _service(template: Template) -> str:
    return template["Metadata"]["stagewise"]["service"]


def _stagewise(resource: Mapping[str, Any]) -> dict[str, Any]:
    return (resource.get("Metadata") or {}).get("stagewise") or {}
