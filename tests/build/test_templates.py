"""Rendered templates in a build: hashes, files, and the function → artifact map."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagewise.build import (
    BuildResult,
    LayerCache,
    artifact_map,
    build_all,
    function_artifacts,
    new_record,
    template_sha256,
    write_templates,
)
from stagewise.config import Project
from stagewise.errors import UserError


def _function(service: str) -> dict:
    return {
        "Type": "AWS::Lambda::Function",
        "Metadata": {"stagewise": {"service": service, "source": f"services/{service}"}},
        "Properties": {"Handler": f"{service}_fn.handler.handler"},
    }


TEMPLATE = {
    "Resources": {
        "HelloFunction": _function("alpha"),
        "OtherFunction": _function("alpha"),
        "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
    }
}


@pytest.fixture
def built(project: Project, tmp_path: Path, cache: LayerCache, fake_pip):
    return build_all(project, tmp_path / "out", pip=fake_pip, cache=cache)


def test_template_hash_ignores_key_order() -> None:
    reordered = json.loads(json.dumps(TEMPLATE, sort_keys=True))
    reordered["Resources"] = dict(reversed(list(reordered["Resources"].items())))

    assert template_sha256(reordered) == template_sha256(TEMPLATE)
    assert template_sha256({"Resources": {}}) != template_sha256(TEMPLATE)


def test_artifact_map_gives_each_function_its_services_code_and_layer(built) -> None:
    mapping = artifact_map(TEMPLATE, built, bucket="artifacts-111111111111")

    expected = {
        "bucket": "artifacts-111111111111",
        "key": built["alpha"].code.key,
        "layer_key": built["alpha"].layer.key,
    }
    assert mapping == {"HelloFunction": expected, "OtherFunction": expected}


def test_a_function_without_service_metadata_is_refused(built) -> None:
    bare = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {}}}}

    with pytest.raises(UserError, match="Fn has no Metadata.stagewise.service"):
        artifact_map(bare, built, bucket="b")


def test_a_function_of_an_unbuilt_service_is_refused(built) -> None:
    with pytest.raises(UserError, match="runs service 'gamma'"):
        artifact_map({"Resources": {"Fn": _function("gamma")}}, built, bucket="b")


def test_function_artifacts_for_the_record(built) -> None:
    beta = {"Resources": {"Fn": _function("beta")}}

    entries = function_artifacts({"dev-fixture-alpha": TEMPLATE, "dev-fixture-beta": beta}, built)

    assert [(e.stack, e.logical_id, e.service) for e in entries] == [
        ("dev-fixture-alpha", "HelloFunction", "alpha"),
        ("dev-fixture-alpha", "OtherFunction", "alpha"),
        ("dev-fixture-beta", "Fn", "beta"),
    ]
    assert entries[2].layer_key is None and entries[2].code_sha256 == built["beta"].code.sha256


def test_write_templates_writes_stable_json(tmp_path: Path) -> None:
    paths = write_templates({"dev-fixture-alpha": TEMPLATE}, tmp_path)

    assert json.loads(paths["dev-fixture-alpha"].read_text()) == TEMPLATE
    first = paths["dev-fixture-alpha"].read_bytes()
    assert (
        write_templates({"dev-fixture-alpha": TEMPLATE}, tmp_path)["dev-fixture-alpha"].read_bytes() == first
    )


def test_new_record_hashes_templates_and_lists_functions(project: Project, built) -> None:
    record = new_record(project, stage="dev", templates={"alpha": TEMPLATE}, artifacts=built)

    assert record.templates == {"alpha": template_sha256(TEMPLATE)}
    assert [f.logical_id for f in record.functions] == ["HelloFunction", "OtherFunction"]
    assert record.result is BuildResult.PENDING and record.commit is None and record.dirty
