"""Deploy order from exports and imports: phases, cycles, missing exporters, borrowed exports."""

from __future__ import annotations

from typing import Any

import pytest

from stagewise.stacks import StackGraphError, deploy_phases, removal_phases
from stagewise.stacks.graph import external_imports, imports_of


def stack(service: str, *, exports: tuple[str, ...] = (), imports: tuple[str, ...] = ()) -> dict[str, Any]:
    """A minimal rendered template of stage `dev`, app `demo`."""
    return {
        "Metadata": {"stagewise": {"stage": "dev", "app": "demo", "service": service}},
        "Resources": {
            f"R{i}": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::ImportValue": name}}}
            for i, name in enumerate(imports)
        },
        "Outputs": {key: {"Value": "x", "Export": {"Name": f"dev-demo-{service}-{key}"}} for key in exports},
    }


def test_the_real_stage_deploys_infra_then_notes_api(rendered) -> None:
    phases = deploy_phases(rendered["dev"])
    assert phases[:2] == [["infra"], ["notes-api"]]
    assert removal_phases(rendered["dev"])[-2:] == [["notes-api"], ["infra"]]


def test_independent_stacks_share_a_phase_and_importers_follow_exporters() -> None:
    templates = {
        "api": stack("api", exports=("Api",), imports=("dev-demo-infra-Table",)),
        "infra": stack("infra", exports=("Table",)),
        "jobs": stack("jobs", imports=("dev-demo-infra-Table",)),
        "billing": stack("billing", imports=("dev-demo-api-Api",)),
    }
    assert deploy_phases(templates) == [["infra"], ["api", "jobs"], ["billing"]]


def test_a_cycle_is_an_error_that_names_the_cycle() -> None:
    templates = {
        "a": stack("a", exports=("A",), imports=("dev-demo-b-B",)),
        "b": stack("b", exports=("B",), imports=("dev-demo-c-C",)),
        "c": stack("c", exports=("C",), imports=("dev-demo-a-A",)),
        "d": stack("d", exports=("D",)),
    }
    with pytest.raises(StackGraphError, match=r"cycle: a → b → c → a"):
        deploy_phases(templates)


def test_an_import_nobody_exports_names_the_importer_and_the_export() -> None:
    templates = {"infra": stack("infra", exports=("Table",)), "api": stack("api", imports=("dev-demo-infra-Tabel",))}
    with pytest.raises(StackGraphError, match=r"api imports dev-demo-infra-Tabel, but no stack"):
        deploy_phases(templates)


def test_imports_of_another_stages_exports_are_external_and_add_no_edge() -> None:
    borrowed = "dev-demo-infra-Table"
    api = stack("api", imports=(borrowed,))
    api["Metadata"]["stagewise"]["stage"] = "pr-7"
    assert deploy_phases({"api": api}) == [["api"]]
    assert external_imports({"api": api}) == {"api": {borrowed}}


def test_two_stacks_exporting_one_name_is_an_error() -> None:
    templates = {"a": stack("a", exports=("X",)), "b": stack("b")}
    templates["b"]["Outputs"] = {"X": {"Value": "y", "Export": {"Name": "dev-demo-a-X"}}}
    with pytest.raises(StackGraphError, match="both a and b"):
        deploy_phases(templates)


def test_imports_are_found_anywhere_in_resources_and_outputs() -> None:
    template = {
        "Resources": {"F": {"Properties": {"Env": {"Variables": {"A": {"Fn::ImportValue": "x-A"}}},
                                           "List": [{"Fn::Join": ["", [{"Fn::ImportValue": "x-B"}]]}]}}},
        "Outputs": {"O": {"Value": {"Fn::ImportValue": "x-C"}}},
    }
    assert imports_of(template) == {"x-A", "x-B", "x-C"}


def test_a_computed_import_name_cannot_be_ordered() -> None:
    template = {"Resources": {"F": {"Properties": {"P": {"Fn::ImportValue": {"Fn::Sub": "${AWS::StackName}-X"}}}}}}
    with pytest.raises(StackGraphError, match="plain string"):
        deploy_phases({"f": template})
