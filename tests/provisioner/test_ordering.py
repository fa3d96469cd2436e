"""Dependency order from Ref / GetAtt / Sub / DependsOn, cycles, and refusing unknown types up front."""

from __future__ import annotations

from typing import Any

import pytest

from stagewise.provisioner import Provisioner, ResourceEvent, ResourceStatus, TemplateError
from stagewise.provisioner.graph import dependency_order


def _param(value: Any, **extra: Any) -> dict[str, Any]:
    return {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": value}, **extra}


def test_created_in_dependency_order_and_deleted_in_reverse(
    prov: Provisioner, events: list[ResourceEvent]
) -> None:
    template = {
        "Resources": {
            "A": _param({"Fn::Sub": "${B}"}),
            "B": _param({"Fn::GetAtt": ["C", "Value"]}),
            "C": _param("c", DependsOn="D"),
            "D": _param("d"),
        }
    }
    prov.deploy("s1", template)
    created = [e.logical_id for e in events if e.status is ResourceStatus.CREATE_COMPLETE]
    assert created == ["D", "C", "B", "A"]
    events.clear()
    prov.delete("s1")
    deleted = [e.logical_id for e in events if e.status is ResourceStatus.DELETE_COMPLETE]
    assert deleted == ["A", "B", "C", "D"]


def test_cycle_is_named(prov: Provisioner) -> None:
    template = {
        "Resources": {
            "A": _param({"Ref": "B"}),
            "B": _param({"Ref": "C"}),
            "C": _param({"Ref": "A"}),
            "D": _param("free"),
        }
    }
    with pytest.raises(TemplateError, match=r"Circular dependency between resources: \[A, B, C\]"):
        prov.deploy("s1", template)


def test_dependency_order_is_deterministic() -> None:
    assert dependency_order({"b": set(), "a": set(), "c": {"a", "b"}}) == ["a", "b", "c"]


def test_unknown_type_refused_before_any_resource_is_created(prov: Provisioner, cloud: Any) -> None:
    template = {"Resources": {"P": _param("v"), "Thing": {"Type": "AWS::EC2::Instance", "Properties": {}}}}
    with pytest.raises(
        TemplateError, match=r"Resources.Thing: resource type AWS::EC2::Instance is not supported"
    ):
        prov.deploy("s1", template)
    assert cloud.client("ssm").describe_parameters()["Parameters"] == []
    assert prov.list_stacks() == []


def test_unsupported_property_refused(prov: Provisioner) -> None:
    template = {"Resources": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Colour": "blue"}}}}
    with pytest.raises(TemplateError, match="property Colour is not supported for AWS::SQS::Queue"):
        prov.deploy("s1", template)


def test_missing_depends_on_target(prov: Provisioner) -> None:
    with pytest.raises(TemplateError, match="resource Ghost does not exist"):
        prov.deploy("s1", {"Resources": {"A": _param("a", DependsOn=["Ghost"])}})


def test_secure_string_parameter_refused(prov: Provisioner) -> None:
    template = {
        "Resources": {
            "S": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "SecureString", "Value": "x"}}
        }
    }
    with pytest.raises(TemplateError, match="SecureString"):
        prov.deploy("s1", template)
