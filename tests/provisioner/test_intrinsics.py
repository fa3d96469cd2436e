"""Each intrinsic function and pseudo parameter, resolved through a real deploy (SSM parameter values)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from stagewise.provisioner import Provisioner, TemplateError


def _value(prov: Provisioner, expr: Any, **extra: Any) -> Any:
    template = {
        "Parameters": {
            "Name": {"Type": "String", "Default": "notes"},
            "Count": {"Type": "Number", "Default": "3"},
            "Zones": {"Type": "CommaDelimitedList", "Default": "a,b,c"},
        },
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Name"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "NotProd"}, {"Fn::Equals": [{"Ref": "Count"}, "3"]}]},
            "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Both"}]},
        },
        "Resources": {
            "Base": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "base-value"}},
            "P": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": expr}},
        },
        **extra,
    }
    state = prov.deploy("s1", template)
    return state.resources["P"].properties["Value"]


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ({"Ref": "Name"}, "notes"),
        ({"Ref": "AWS::Region"}, "us-east-1"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::StackName"}, "s1"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com"),
        ({"Fn::Sub": "${Name}-${AWS::Region}-${!Literal}"}, "notes-us-east-1-${Literal}"),
        ({"Fn::Sub": ["${X}/${Name}", {"X": {"Ref": "Count"}}]}, "3/notes"),
        ({"Fn::Sub": "${Base.Value}!"}, "base-value!"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Name"}, {"Ref": "Count"}]]}, "a-notes-3"),
        ({"Fn::Select": [1, {"Ref": "Zones"}]}, "b"),
        ({"Fn::Select": ["2", {"Fn::Split": [",", "x,y,z"]}]}, "z"),
        ({"Fn::Join": ["", {"Fn::GetAZs": ""}]}, "us-east-1aus-east-1bus-east-1c"),
        ({"Fn::Base64": "hi"}, base64.b64encode(b"hi").decode()),
        ({"Fn::If": ["IsProd", "p", "np"]}, "np"),
        ({"Fn::If": ["Either", "yes", "no"]}, "yes"),
        ({"Fn::GetAtt": ["Base", "Value"]}, "base-value"),
        ({"Fn::GetAtt": "Base.Type"}, "String"),
        ({"Fn::FindInMap": ["M", "k", "v"]}, "mapped"),
    ],
)
def test_intrinsic_resolves(prov: Provisioner, expr: Any, expected: str) -> None:
    assert _value(prov, expr, Mappings={"M": {"k": {"v": "mapped"}}}) == expected


def test_stack_id_is_stable_across_updates(prov: Provisioner) -> None:
    first = _value(prov, {"Ref": "AWS::StackId"})
    assert first.startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/s1/")
    assert _value(prov, {"Fn::Join": ["", [{"Ref": "AWS::StackId"}]]}) == first


def test_no_value_removes_property(prov: Provisioner) -> None:
    template = {
        "Resources": {
            "P": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": "v", "Description": {"Ref": "AWS::NoValue"}},
            }
        }
    }
    assert "Description" not in prov.deploy("s1", template).resources["P"].properties


def test_resource_condition_false_is_not_created(prov: Provisioner, cloud: Any) -> None:
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        "Resources": {
            "P": {
                "Type": "AWS::SSM::Parameter",
                "Condition": "IsProd",
                "Properties": {"Type": "String", "Value": "v"},
            },
            "Q": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "q"}},
        },
    }
    assert set(prov.deploy("s1", template).resources) == {"Q"}
    assert set(prov.deploy("s1", template, {"Stage": "prod"}).resources) == {"P", "Q"}


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ({"Fn::Nope": "x"}, "unknown intrinsic function Fn::Nope"),
        ({"Ref": "Missing"}, "unresolved parameter or resource Missing"),
        ({"Fn::GetAtt": ["Missing", "Arn"]}, "Fn::GetAtt refers to resource Missing"),
        ({"Fn::GetAtt": ["Q", "Arn"]}, "has no attribute Arn"),
        ({"Fn::Sub": "${Nothing}"}, "unresolved parameter or resource Nothing"),
        ({"Fn::Join": ["-"]}, "Fn::Join expects a list of 2 items"),
        ({"Fn::If": ["NoSuchCondition", "a", "b"]}, "condition NoSuchCondition is not defined"),
    ],
)
def test_bad_intrinsic_is_refused_before_anything(
    prov: Provisioner, cloud: Any, expr: Any, message: str
) -> None:
    template = {
        "Resources": {
            "Q": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "q"}},
            "P": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": expr}},
        }
    }
    with pytest.raises(TemplateError, match=message):
        prov.deploy("s1", template)
    assert cloud.client("ssm").describe_parameters()["Parameters"] == []
    assert prov.describe("s1") is None


def test_missing_parameter_value_is_refused(prov: Provisioner) -> None:
    template = {
        "Parameters": {"Needed": {"Type": "String"}},
        "Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": "v"}}},
    }
    with pytest.raises(TemplateError, match=r"Parameters: \[Needed\] must have values"):
        prov.deploy("s1", template)


def test_number_parameter_is_checked(prov: Provisioner) -> None:
    template = {
        "Parameters": {"N": {"Type": "Number"}},
        "Resources": {
            "P": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": {"Ref": "N"}}}
        },
    }
    with pytest.raises(TemplateError, match="must be a number"):
        prov.deploy("s1", template, {"N": "ten"})
