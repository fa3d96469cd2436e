"""Cognito: AWS::Cognito::UserPool, ::UserPoolClient, ::IdentityPool, ::IdentityPoolRoleAttachment.

moto has no SetIdentityPoolRoles, so a role attachment is checked (the identity pool and the
roles must exist) and recorded in the stack state, where the local runtime reads the roles.
"""

from __future__ import annotations

from typing import Any

from stagewise.provisioner.errors import ProvisionerError
from stagewise.provisioner.resources.base import Provisioned, PutResource, ResourceType, optional, register
from stagewise.provisioner.state import ResourceState

_POOL_UPDATABLE = (
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "UserPoolAddOns",
    "AccountRecoverySetting",
)
_POOL_CREATE_ONLY = ("AliasAttributes", "UsernameAttributes", "UsernameConfiguration", "Schema")


@register
class UserPool(ResourceType):
    type_name = "AWS::Cognito::UserPool"
    properties = frozenset({"UserPoolName", *_POOL_UPDATABLE, *_POOL_CREATE_ONLY})
    replace_on = frozenset({"AliasAttributes", "UsernameAttributes", "UsernameConfiguration"})
    attributes = frozenset({"Arn", "ProviderName", "ProviderURL", "UserPoolId"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        name = props.get("UserPoolName") or self.ctx.generated_name(max_length=128)
        kwargs = {k: props[k] for k in (*_POOL_UPDATABLE, *_POOL_CREATE_ONLY) if k in props}
        pool = self.ctx.client("cognito-idp").create_user_pool(PoolName=name, **kwargs)["UserPool"]
        return self._provisioned(pool["Id"], pool["Arn"])

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        idp, pool_id, old = self.ctx.client("cognito-idp"), current.physical_id, current.properties
        if old.get("Schema") != props.get("Schema"):
            self._add_attributes(pool_id, old.get("Schema", []), props.get("Schema", []))
        if any(old.get(k) != props.get(k) for k in ("UserPoolName", *_POOL_UPDATABLE)):
            kwargs = {k: props[k] for k in _POOL_UPDATABLE if k in props}
            idp.update_user_pool(UserPoolId=pool_id, **kwargs)
        return Provisioned(physical_id=pool_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("cognito-idp").delete_user_pool(UserPoolId=current.physical_id)

    def _add_attributes(self, pool_id: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
        old_by = {a["Name"]: a for a in old}
        if any(old_by.get(a["Name"], a) != a for a in new) or set(old_by) - {a["Name"] for a in new}:
            raise ProvisionerError(
                "a user pool's Schema attributes can only be added, never changed or removed "
                "(as in Cognito); rename the UserPool resource to create a new pool"
            )
        added = [a for a in new if a["Name"] not in old_by]
        if added:
            self.ctx.client("cognito-idp").add_custom_attributes(UserPoolId=pool_id, CustomAttributes=added)

    def _provisioned(self, pool_id: str, arn: str) -> Provisioned:
        host = f"cognito-idp.{self.ctx.region}.amazonaws.com"
        return Provisioned(
            physical_id=pool_id,
            attributes={
                "Arn": arn,
                "ProviderName": f"{host}/{pool_id}",
                "ProviderURL": f"https://{host}/{pool_id}",
                "UserPoolId": pool_id,
            },
        )


_CLIENT_OPTIONS = (
    "ExplicitAuthFlows",
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "SupportedIdentityProviders",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
)


@register
class UserPoolClient(ResourceType):
    type_name = "AWS::Cognito::UserPoolClient"
    properties = frozenset({"UserPoolId", "ClientName", "GenerateSecret", *_CLIENT_OPTIONS})
    required = frozenset({"UserPoolId"})
    replace_on = frozenset({"UserPoolId", "GenerateSecret"})
    attributes = frozenset({"ClientId", "ClientSecret", "Name"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        name = props.get("ClientName") or self.ctx.generated_name(max_length=128)
        kwargs = {k: props[k] for k in _CLIENT_OPTIONS if k in props}
        client = self.ctx.client("cognito-idp").create_user_pool_client(
            UserPoolId=props["UserPoolId"],
            ClientName=name,
            GenerateSecret=str(props.get("GenerateSecret", False)).lower() == "true",
            **kwargs,
        )["UserPoolClient"]
        attributes = {"ClientId": client["ClientId"], "Name": name}
        if client.get("ClientSecret"):
            attributes["ClientSecret"] = client["ClientSecret"]
        return Provisioned(physical_id=client["ClientId"], attributes=attributes)

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        name = props.get("ClientName") or current.attributes["Name"]
        kwargs = {k: props[k] for k in _CLIENT_OPTIONS if k in props}
        self.ctx.client("cognito-idp").update_user_pool_client(
            UserPoolId=props["UserPoolId"], ClientId=current.physical_id, ClientName=name, **kwargs
        )
        return Provisioned(physical_id=current.physical_id, attributes={**current.attributes, "Name": name})

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("cognito-idp").delete_user_pool_client(
            UserPoolId=current.properties["UserPoolId"], ClientId=current.physical_id
        )


_IDENTITY_OPTIONS = {
    "AllowClassicFlow": "AllowClassicFlow",
    "SupportedLoginProviders": "SupportedLoginProviders",
    "DeveloperProviderName": "DeveloperProviderName",
    "OpenIdConnectProviderARNs": "OpenIdConnectProviderARNs",
    "SamlProviderARNs": "SamlProviderARNs",
    "IdentityPoolTags": "IdentityPoolTags",
}


@register
class IdentityPool(ResourceType):
    type_name = "AWS::Cognito::IdentityPool"
    properties = frozenset(
        {"IdentityPoolName", "AllowUnauthenticatedIdentities", "CognitoIdentityProviders", *_IDENTITY_OPTIONS}
    )
    required = frozenset({"AllowUnauthenticatedIdentities"})
    attributes = frozenset({"Name", "Id"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        name = props.get("IdentityPoolName") or self.ctx.generated_name(max_length=128).replace("-", "_")
        pool = self.ctx.client("cognito-identity").create_identity_pool(
            IdentityPoolName=name, **self._kwargs(props)
        )
        return Provisioned(
            physical_id=pool["IdentityPoolId"], attributes={"Name": name, "Id": pool["IdentityPoolId"]}
        )

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        name = props.get("IdentityPoolName") or current.attributes["Name"]
        self.ctx.client("cognito-identity").update_identity_pool(
            IdentityPoolId=current.physical_id, IdentityPoolName=name, **self._kwargs(props)
        )
        return Provisioned(physical_id=current.physical_id, attributes={**current.attributes, "Name": name})

    def delete(self, current: ResourceState) -> None:
        self.ctx.client("cognito-identity").delete_identity_pool(IdentityPoolId=current.physical_id)

    @staticmethod
    def _kwargs(props: dict[str, Any]) -> dict[str, Any]:
        kwargs = optional(props, _IDENTITY_OPTIONS)
        kwargs["AllowUnauthenticatedIdentities"] = (
            str(props["AllowUnauthenticatedIdentities"]).lower() == "true"
        )
        providers = props.get("CognitoIdentityProviders", [])
        if providers:
            kwargs["CognitoIdentityProviders"] = [
                {**p, "ServerSideTokenCheck": str(p.get("ServerSideTokenCheck", False)).lower() == "true"}
                for p in providers
            ]
        return kwargs


@register
class IdentityPoolRoleAttachment(PutResource):
    type_name = "AWS::Cognito::IdentityPoolRoleAttachment"
    properties = frozenset({"IdentityPoolId", "Roles", "RoleMappings"})
    required = frozenset({"IdentityPoolId"})
    replace_on = frozenset({"IdentityPoolId"})

    def delete(self, current: ResourceState) -> None:
        """Nothing to remove in moto: the attachment lives in the stack state only."""

    def put(self, props: dict[str, Any]) -> None:
        """moto keeps no attachment: check that the pool and the roles exist, as CloudFormation would."""
        self.ctx.client("cognito-identity").describe_identity_pool(IdentityPoolId=props["IdentityPoolId"])
        iam = self.ctx.client("iam")
        for arn in props.get("Roles", {}).values():
            iam.get_role(RoleName=str(arn).rsplit("/", 1)[-1])
