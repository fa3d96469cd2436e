"""AWS::IAM::Role (Ref = role name; attrs Arn, RoleId) and AWS::IAM::Policy (inline policy on roles)."""

from __future__ import annotations

import json
from typing import Any

from stagewise.provisioner.resources.base import Provisioned, ResourceType, register, tags_list
from stagewise.provisioner.state import ResourceState


def _doc(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@register
class Role(ResourceType):
    type_name = "AWS::IAM::Role"
    properties = frozenset(
        {
            "RoleName",
            "AssumeRolePolicyDocument",
            "Policies",
            "ManagedPolicyArns",
            "Path",
            "Description",
            "MaxSessionDuration",
            "PermissionsBoundary",
            "Tags",
        }
    )
    required = frozenset({"AssumeRolePolicyDocument"})
    replace_on = frozenset({"RoleName", "Path"})
    attributes = frozenset({"Arn", "RoleId"})
    name_property = "RoleName"

    def create(self, props: dict[str, Any]) -> Provisioned:
        iam = self.ctx.client("iam")
        name = props.get("RoleName") or self.ctx.generated_name(max_length=64)
        kwargs: dict[str, Any] = {"Path": props.get("Path", "/")}
        for key in ("Description", "PermissionsBoundary"):
            if key in props:
                kwargs[key] = props[key]
        if "MaxSessionDuration" in props:
            kwargs["MaxSessionDuration"] = int(props["MaxSessionDuration"])
        if props.get("Tags"):
            kwargs["Tags"] = tags_list(props)
        role = iam.create_role(
            RoleName=name, AssumeRolePolicyDocument=_doc(props["AssumeRolePolicyDocument"]), **kwargs
        )
        try:
            self._sync_policies(name, {}, props)
        except Exception:
            self.delete(ResourceState(self.ctx.logical_id, self.type_name, name, props))
            raise
        return Provisioned(
            physical_id=name, attributes={"Arn": role["Role"]["Arn"], "RoleId": role["Role"]["RoleId"]}
        )

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        iam, name, old = self.ctx.client("iam"), current.physical_id, current.properties
        if old.get("AssumeRolePolicyDocument") != props["AssumeRolePolicyDocument"]:
            iam.update_assume_role_policy(
                RoleName=name, PolicyDocument=_doc(props["AssumeRolePolicyDocument"])
            )
        if old.get("Description") != props.get("Description") or old.get("MaxSessionDuration") != props.get(
            "MaxSessionDuration"
        ):
            iam.update_role(
                RoleName=name,
                Description=props.get("Description", ""),
                MaxSessionDuration=int(props.get("MaxSessionDuration", 3600)),
            )
        self._sync_policies(name, old, props)
        return Provisioned(physical_id=name, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        iam, name = self.ctx.client("iam"), current.physical_id
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        iam.delete_role(RoleName=name)

    def _sync_policies(self, name: str, old: dict[str, Any], props: dict[str, Any]) -> None:
        iam = self.ctx.client("iam")
        old_inline = {p["PolicyName"]: p["PolicyDocument"] for p in old.get("Policies", [])}
        new_inline = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
        for policy_name in old_inline.keys() - new_inline.keys():
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        for policy_name, document in new_inline.items():
            if old_inline.get(policy_name) != document:
                iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=_doc(document))
        old_managed, new_managed = (
            set(old.get("ManagedPolicyArns", [])),
            set(props.get("ManagedPolicyArns", [])),
        )
        for arn in sorted(old_managed - new_managed):
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        for arn in sorted(new_managed - old_managed):
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)


@register
class Policy(ResourceType):
    type_name = "AWS::IAM::Policy"
    properties = frozenset({"PolicyName", "PolicyDocument", "Roles", "Users", "Groups"})
    required = frozenset({"PolicyName", "PolicyDocument"})
    attributes = frozenset({"Id"})

    def create(self, props: dict[str, Any]) -> Provisioned:
        self._put(props)
        physical_id = self.ctx.generated_name(max_length=128)
        return Provisioned(physical_id=physical_id, attributes={"Id": physical_id})

    def update(self, current: ResourceState, props: dict[str, Any]) -> Provisioned:
        self._remove(current.properties, keep=props)
        self._put(props)
        return Provisioned(physical_id=current.physical_id, attributes=dict(current.attributes))

    def delete(self, current: ResourceState) -> None:
        self._remove(current.properties, keep=None)

    def _put(self, props: dict[str, Any]) -> None:
        iam, name, doc = self.ctx.client("iam"), props["PolicyName"], _doc(props["PolicyDocument"])
        for role in props.get("Roles", []):
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=doc)
        for user in props.get("Users", []):
            iam.put_user_policy(UserName=user, PolicyName=name, PolicyDocument=doc)
        for group in props.get("Groups", []):
            iam.put_group_policy(GroupName=group, PolicyName=name, PolicyDocument=doc)

    def _remove(self, old: dict[str, Any], *, keep: dict[str, Any] | None) -> None:
        iam, name = self.ctx.client("iam"), old["PolicyName"]
        same_name = keep is not None and keep["PolicyName"] == name
        for role in old.get("Roles", []):
            if not (same_name and role in keep.get("Roles", [])):
                iam.delete_role_policy(RoleName=role, PolicyName=name)
        for user in old.get("Users", []):
            if not (same_name and user in keep.get("Users", [])):
                iam.delete_user_policy(UserName=user, PolicyName=name)
        for group in old.get("Groups", []):
            if not (same_name and group in keep.get("Groups", [])):
                iam.delete_group_policy(GroupName=group, PolicyName=name)
