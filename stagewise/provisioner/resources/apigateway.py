"""API Gateway (REST): RestApi, Resource, Method, Authorizer, Deployment, Stage, GatewayResponse.

Each class maps CloudFormation's PascalCase properties to the API Gateway API's camelCase
arguments. A Method is written as put_method + put_integration (+ integration and method
responses, e.g. a MOCK integration for OPTIONS); updating one rewrites it in place. The local
runtime reads routes, authorizers and integration URIs from the resolved properties.
"""

from __future__ import annotations

import json
from typing import Any

from stagewise.provisioner.resources.base import Provisioned, PutResource, ResourceType, optional, register
from stagewise.provisioner.state import ResourceState

_API_OPTIONS = {
    "Description": "description",
    "BinaryMediaTypes": "binaryMediaTypes",
    "ApiKeySourceType": "apiKeySource",
    "DisableExecuteApiEndpoint": "disableExecuteApiEndpoint",
    "MinimumCompressionSize": "minimumCompressionSize",
}


def _api(ctx: Any) -> Any:
    return ctx.client("apigateway")


def _replace_ops(old: dict[str, Any], new: dict[str, Any], paths: dict[str, str]) -> list[dict[str, str]]:
    """Patch operations for the scalar properties that changed: {cfn name: api path}."""
    ops = []
    for name, path in paths.items():
        if old.get(name) != new.get(name):
            value = new.get(name, "")
            value = json.dumps(value) if isinstance(value, dict | list) else str(value)
            ops.append(
                {
                    "op": "replace",
                    "path": path,
                    "value": value.lower() if value in ("True", "False") else value,
                }
            )
    return ops


@register
class RestApi(ResourceType):
    type_name = "AWS::ApiGateway::RestApi"
    properties = frozenset({"Name", "EndpointConfiguration", "Policy", "Tags", *_API_OPTIONS})
    required = frozenset({"Name"})
    replace_on = frozenset({"EndpointConfiguration", "BinaryMediaTypes", "MinimumCompressionSize"})
    attributes = frozenset({"RootResourceId", "RestApiId"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        kwargs = optional(props, _API_OPTIONS)
        if "EndpointConfiguration" in props:
            kwargs["endpointConfiguration"] = {"types": props["EndpointConfiguration"].get("Types", ["EDGE"])}
        if "Policy" in props:
            kwargs["policy"] = (
                json.dumps(props["Policy"]) if isinstance(props["Policy"], dict) else props["Policy"]
            )
        if props.get("Tags"):
            kwargs["tags"] = {t["Key"]: t["Value"] for t in props["Tags"]}
        api = _api(self.ctx).create_rest_api(name=props["Name"], **kwargs)
        root = api.get("rootResourceId") or self._root(api["id"])
        return Provisioned(physical_id=api["id"], attributes={"RootResourceId": root, "RestApiId": api["id"]})

    def _root(self, api_id: str) -> str:
        items = _api(self.ctx).get_resources(restApiId=api_id)["items"]
        return next(item["id"] for item in items if item["path"] == "/")

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        paths = {
            "Name": "/name",
            "Description": "/description",
            "ApiKeySourceType": "/apiKeySource",
            "DisableExecuteApiEndpoint": "/disableExecuteApiEndpoint",
            "Policy": "/policy",
        }
        ops = _replace_ops(current.properties, props, paths)
        if ops:
            _api(self.ctx).update_rest_api(restApiId=current.physical_id, patchOperations=ops)
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        _api(self.ctx).delete_rest_api(restApiId=current.physical_id)


@register
class Resource(ResourceType):
    type_name = "AWS::ApiGateway::Resource"
    properties = frozenset({"RestApiId", "ParentId", "PathPart"})
    required = frozenset({"RestApiId", "ParentId", "PathPart"})
    update_in_place = False
    attributes = frozenset({"ResourceId"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        resource = _api(self.ctx).create_resource(
            restApiId=props["RestApiId"], parentId=props["ParentId"], pathPart=props["PathPart"]
        )
        return Provisioned(physical_id=resource["id"], attributes={"ResourceId": resource["id"]})

    def delete(self, current: ResourceState) -> None:
        _api(self.ctx).delete_resource(
            restApiId=current.properties["RestApiId"], resourceId=current.physical_id
        )


_METHOD_OPTIONS = {
    "AuthorizationType": "authorizationType",
    "AuthorizerId": "authorizerId",
    "ApiKeyRequired": "apiKeyRequired",
    "OperationName": "operationName",
    "RequestParameters": "requestParameters",
    "RequestModels": "requestModels",
    "RequestValidatorId": "requestValidatorId",
    "AuthorizationScopes": "authorizationScopes",
}
_INTEGRATION_OPTIONS = {
    "Uri": "uri",
    "IntegrationHttpMethod": "integrationHttpMethod",
    "Credentials": "credentials",
    "RequestTemplates": "requestTemplates",
    "RequestParameters": "requestParameters",
    "PassthroughBehavior": "passthroughBehavior",
    "TimeoutInMillis": "timeoutInMillis",
    "ContentHandling": "contentHandling",
    "ConnectionType": "connectionType",
    "CacheKeyParameters": "cacheKeyParameters",
    "CacheNamespace": "cacheNamespace",
}


@register
class Method(PutResource):
    type_name = "AWS::ApiGateway::Method"
    properties = frozenset(
        {"RestApiId", "ResourceId", "HttpMethod", "Integration", "MethodResponses", *_METHOD_OPTIONS}
    )
    required = frozenset({"RestApiId", "ResourceId", "HttpMethod"})
    replace_on = frozenset({"RestApiId", "ResourceId", "HttpMethod"})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        """A method's responses and integration go with it: delete, then put afresh."""
        self.delete(current)
        return super().update(current, props)

    def delete(self, current: ResourceState) -> None:
        props = current.properties
        _api(self.ctx).delete_method(
            restApiId=props["RestApiId"], resourceId=props["ResourceId"], httpMethod=props["HttpMethod"]
        )

    def put(self, props: dict[str, Any]) -> None:
        api = _api(self.ctx)
        target = {
            "restApiId": props["RestApiId"],
            "resourceId": props["ResourceId"],
            "httpMethod": props["HttpMethod"],
        }
        kwargs = optional(props, _METHOD_OPTIONS)
        kwargs.setdefault("authorizationType", "NONE")
        api.put_method(**target, **kwargs)
        for response in props.get("MethodResponses", []):
            api.put_method_response(
                **target,
                statusCode=str(response["StatusCode"]),
                **optional(
                    response, {"ResponseParameters": "responseParameters", "ResponseModels": "responseModels"}
                ),
            )
        if "Integration" in props:
            self._put_integration(target, props["Integration"])

    def _put_integration(self, target: dict[str, str], integration: dict[str, Any]) -> None:
        api = _api(self.ctx)
        kwargs = optional(integration, _INTEGRATION_OPTIONS)
        if "timeoutInMillis" in kwargs:
            kwargs["timeoutInMillis"] = int(kwargs["timeoutInMillis"])
        api.put_integration(**target, type=integration["Type"], **kwargs)
        for response in integration.get("IntegrationResponses", []):
            api.put_integration_response(
                **target,
                statusCode=str(response["StatusCode"]),
                **optional(
                    response,
                    {
                        "SelectionPattern": "selectionPattern",
                        "ResponseParameters": "responseParameters",
                        "ResponseTemplates": "responseTemplates",
                        "ContentHandling": "contentHandling",
                    },
                ),
            )


_AUTHORIZER_PATHS = {
    "Name": "/name",
    "AuthorizerUri": "/authorizerUri",
    "AuthorizerCredentials": "/authorizerCredentials",
    "AuthorizerResultTtlInSeconds": "/authorizerResultTtlInSeconds",
    "IdentitySource": "/identitySource",
    "IdentityValidationExpression": "/identityValidationExpression",
    "AuthType": "/authType",
}


@register
class Authorizer(ResourceType):
    type_name = "AWS::ApiGateway::Authorizer"
    properties = frozenset({"RestApiId", "Type", "ProviderARNs", *_AUTHORIZER_PATHS})
    required = frozenset({"RestApiId", "Type", "Name"})
    replace_on = frozenset({"RestApiId", "Type", "ProviderARNs"})
    attributes = frozenset({"AuthorizerId"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        kwargs = {path[1:]: props[name] for name, path in _AUTHORIZER_PATHS.items() if name in props}
        if "authorizerResultTtlInSeconds" in kwargs:
            kwargs["authorizerResultTtlInSeconds"] = int(kwargs["authorizerResultTtlInSeconds"])
        if "ProviderARNs" in props:
            kwargs["providerARNs"] = props["ProviderARNs"]
        authorizer = _api(self.ctx).create_authorizer(
            restApiId=props["RestApiId"], type=props["Type"], **kwargs
        )
        return Provisioned(physical_id=authorizer["id"], attributes={"AuthorizerId": authorizer["id"]})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        ops = _replace_ops(current.properties, props, _AUTHORIZER_PATHS)
        _api(self.ctx).update_authorizer(
            restApiId=props["RestApiId"], authorizerId=current.physical_id, patchOperations=ops
        )
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        _api(self.ctx).delete_authorizer(
            restApiId=current.properties["RestApiId"], authorizerId=current.physical_id
        )


@register
class Deployment(ResourceType):
    type_name = "AWS::ApiGateway::Deployment"
    properties = frozenset({"RestApiId", "Description", "StageName", "StageDescription"})
    required = frozenset({"RestApiId"})
    replace_on = frozenset({"RestApiId", "StageName", "StageDescription"})
    attributes = frozenset({"DeploymentId"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        kwargs = optional(props, {"Description": "description", "StageName": "stageName"})
        if isinstance(props.get("StageDescription"), dict) and "Description" in props["StageDescription"]:
            kwargs["stageDescription"] = props["StageDescription"]["Description"]
        deployment = _api(self.ctx).create_deployment(restApiId=props["RestApiId"], **kwargs)
        return Provisioned(physical_id=deployment["id"], attributes={"DeploymentId": deployment["id"]})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        ops = _replace_ops(current.properties, props, {"Description": "/description"})
        _api(self.ctx).update_deployment(
            restApiId=props["RestApiId"], deploymentId=current.physical_id, patchOperations=ops
        )
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        api, api_id = _api(self.ctx), current.properties["RestApiId"]
        stage = current.properties.get("StageName")
        if stage:
            api.delete_stage(restApiId=api_id, stageName=stage)
        api.delete_deployment(restApiId=api_id, deploymentId=current.physical_id)


_METHOD_SETTING_KEYS = {
    "LoggingLevel": "logging/loglevel",
    "DataTraceEnabled": "logging/dataTrace",
    "MetricsEnabled": "metrics/enabled",
    "ThrottlingBurstLimit": "throttling/burstLimit",
    "ThrottlingRateLimit": "throttling/rateLimit",
    "CachingEnabled": "caching/enabled",
    "CacheTtlInSeconds": "caching/ttlInSeconds",
}


@register
class Stage(ResourceType):
    type_name = "AWS::ApiGateway::Stage"
    properties = frozenset(
        {
            "RestApiId",
            "StageName",
            "DeploymentId",
            "Description",
            "Variables",
            "TracingEnabled",
            "MethodSettings",
            "CacheClusterEnabled",
            "CacheClusterSize",
            "Tags",
        }
    )
    required = frozenset({"RestApiId", "DeploymentId"})
    replace_on = frozenset({"RestApiId", "StageName"})
    name_property = "StageName"

    def create(self, props: dict[str, Any]) -> Provisioned:
        name = props.get("StageName") or self.ctx.generated_name(max_length=128)
        kwargs = optional(
            props,
            {
                "Description": "description",
                "Variables": "variables",
                "TracingEnabled": "tracingEnabled",
                "CacheClusterEnabled": "cacheClusterEnabled",
                "CacheClusterSize": "cacheClusterSize",
            },
        )
        if props.get("Tags"):
            kwargs["tags"] = {t["Key"]: t["Value"] for t in props["Tags"]}
        api = _api(self.ctx)
        api.create_stage(
            restApiId=props["RestApiId"], stageName=name, deploymentId=props["DeploymentId"], **kwargs
        )
        ops = _method_setting_ops([], props.get("MethodSettings", []))
        if ops:
            api.update_stage(restApiId=props["RestApiId"], stageName=name, patchOperations=ops)
        return Provisioned(physical_id=name)

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        old = current.properties
        ops = _replace_ops(
            old,
            props,
            {
                "DeploymentId": "/deploymentId",
                "Description": "/description",
                "TracingEnabled": "/tracingEnabled",
                "CacheClusterEnabled": "/cacheClusterEnabled",
                "CacheClusterSize": "/cacheClusterSize",
            },
        )
        old_vars, new_vars = old.get("Variables", {}), props.get("Variables", {})
        ops += [{"op": "remove", "path": f"/variables/{k}"} for k in old_vars if k not in new_vars]
        ops += [
            {"op": "replace", "path": f"/variables/{k}", "value": str(v)}
            for k, v in new_vars.items()
            if old_vars.get(k) != v
        ]
        ops += _method_setting_ops(old.get("MethodSettings", []), props.get("MethodSettings", []))
        if ops:
            _api(self.ctx).update_stage(
                restApiId=props["RestApiId"], stageName=current.physical_id, patchOperations=ops
            )
        return Provisioned(physical_id=current.physical_id)

    def delete(self, current: ResourceState) -> None:
        _api(self.ctx).delete_stage(restApiId=current.properties["RestApiId"], stageName=current.physical_id)


def _method_setting_ops(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, str]]:
    ops = []
    for setting in new:
        if setting in old:
            continue
        resource = setting.get("ResourcePath", "/*")
        resource = "*" if resource == "/*" else resource.replace("/", "~1")
        method = setting.get("HttpMethod", "*")
        for key, path in _METHOD_SETTING_KEYS.items():
            if key in setting:
                value = str(setting[key])
                ops.append(
                    {
                        "op": "replace",
                        "path": f"/{resource}/{method}/{path}",
                        "value": value.lower() if value in ("True", "False") else value,
                    }
                )
    return ops


@register
class GatewayResponse(PutResource):
    type_name = "AWS::ApiGateway::GatewayResponse"
    properties = frozenset(
        {"RestApiId", "ResponseType", "StatusCode", "ResponseParameters", "ResponseTemplates"}
    )
    required = frozenset({"RestApiId", "ResponseType"})
    replace_on = frozenset({"RestApiId", "ResponseType"})

    def delete(self, current: ResourceState) -> None:
        _api(self.ctx).delete_gateway_response(
            restApiId=current.properties["RestApiId"], responseType=current.properties["ResponseType"]
        )

    def put(self, props: dict[str, Any]) -> None:
        kwargs = optional(
            props,
            {
                "StatusCode": "statusCode",
                "ResponseParameters": "responseParameters",
                "ResponseTemplates": "responseTemplates",
            },
        )
        if "statusCode" in kwargs:
            kwargs["statusCode"] = str(kwargs["statusCode"])
        _api(self.ctx).put_gateway_response(
            restApiId=props["RestApiId"], responseType=props["ResponseType"], **kwargs
        )
