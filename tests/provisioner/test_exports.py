"""Export rules as CloudFormation enforces them: unique names, in-use exports kept, missing imports fail."""

from __future__ import annotations

from typing import Any

import pytest

from stagewise.provisioner import ExportError, Provisioner, StackStatus


def _exporter(*names: str, value: str = "v") -> dict[str, Any]:
    return {
        "Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": value}}},
        "Outputs": {
            n: {"Value": {"Fn::GetAtt": ["P", "Value"]}, "Export": {"Name": f"dev-{n}"}} for n in names
        },
    }


def _importer(name: str) -> dict[str, Any]:
    return {
        "Resources": {
            "P": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Type": "String", "Value": {"Fn::ImportValue": f"dev-{name}"}},
            }
        }
    }


def test_exports_registry_and_import(prov: Provisioner) -> None:
    prov.deploy("infra", _exporter("TableName", value="notes"))
    state = prov.deploy("api", _importer("TableName"))
    assert state.resources["P"].properties["Value"] == "notes"
    assert state.imports == ["dev-TableName"]
    assert prov.exports() == {"dev-TableName": "notes"}


def test_duplicate_export_name_refused(prov: Provisioner, cloud: Any) -> None:
    prov.deploy("infra", _exporter("TableName"))
    with pytest.raises(
        ExportError, match="Export with name dev-TableName is already exported by stack infra"
    ):
        prov.deploy("other", _exporter("TableName"))
    assert prov.describe("other") is None
    assert len(cloud.client("ssm").describe_parameters()["Parameters"]) == 1


def test_removing_an_export_in_use_refused(prov: Provisioner) -> None:
    prov.deploy("infra", _exporter("TableName", "Other"))
    prov.deploy("api", _importer("TableName"))
    with pytest.raises(ExportError, match="Export dev-TableName cannot be deleted as it is in use by api"):
        prov.deploy("infra", _exporter("Other"))
    assert "dev-TableName" in prov.describe("infra").exports
    prov.deploy("infra", _exporter("TableName"))  # removing an unused export is fine
    assert set(prov.describe("infra").exports) == {"dev-TableName"}


def test_changing_an_export_in_use_refused(prov: Provisioner, cloud: Any) -> None:
    prov.deploy("infra", _exporter("TableName", value="one"))
    prov.deploy("api", _importer("TableName"))
    with pytest.raises(ExportError, match="Export dev-TableName cannot be updated as it is in use by api"):
        prov.deploy("infra", _exporter("TableName", value="two"))
    state = prov.describe("infra")
    assert state.status is StackStatus.UPDATE_ROLLBACK_COMPLETE and state.exports == {"dev-TableName": "one"}
    assert cloud.client("ssm").get_parameter(Name=state.resources["P"].physical_id)["Parameter"]["Value"] == "one"


def test_deleting_a_stack_whose_export_is_imported_refused(prov: Provisioner) -> None:
    prov.deploy("infra", _exporter("TableName"))
    prov.deploy("api", _importer("TableName"))
    with pytest.raises(ExportError, match="Export dev-TableName cannot be deleted as it is in use by api"):
        prov.delete("infra")
    assert prov.describe("infra").status is StackStatus.CREATE_COMPLETE
    prov.delete("api")
    prov.delete("infra")
    assert prov.list_stacks() == []


def test_import_of_missing_export_fails_before_anything(prov: Provisioner, cloud: Any) -> None:
    with pytest.raises(ExportError, match="No export named dev-Nothing found"):
        prov.deploy("api", _importer("Nothing"))
    assert prov.describe("api") is None
    assert cloud.client("ssm").describe_parameters()["Parameters"] == []


def test_state_lives_in_the_local_cloud(prov: Provisioner, cloud: Any) -> None:
    prov.deploy("infra", _exporter("TableName"))
    keys = [
        o["Key"]
        for o in cloud.client("s3").list_objects_v2(Bucket="stagewise-state-123456789012-us-east-1")[
            "Contents"
        ]
    ]
    assert keys == ["stacks/infra.json"]
