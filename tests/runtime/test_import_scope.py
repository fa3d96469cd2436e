"""A worker imports what Lambda would let its function import: the standard library, the packages the
Lambda runtime ships, its layer (its folder's requirements file, followed transitively), its own folder
and the shared libs — not the rest of stagewise's environment, and not what the template preloaded for
another function's layer (stagewise/runtime/import_scope.py)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from stagewise.runtime.import_scope import Scope, layer_names
from stagewise.runtime.model import RuntimeModel
from stagewise.runtime.template import ForkedProcess, Template
from stagewise.runtime.workers import FunctionPool, InvokeStatus, worker_environment
from tests.runtime.conftest import Logs
from tests.runtime.stacks import FIXTURE_APP, api_stack
from tests.runtime.test_template import STAGEWISE_ROOT, eventually, stop

PROVIDED = ("boto3", "botocore", "jmespath", "s3transfer")

PROBE = '''
import importlib, importlib.util, sys, sysconfig


def _tries(name):
    try:
        importlib.import_module(name)
        return "ok"
    except ModuleNotFoundError as exc:
        return str(exc)


def handler(event, context):
    private = sysconfig._get_sysconfigdata_name()  # a standard module sys.stdlib_module_names leaves out
    sys.modules.pop(private, None)
    return {
        "pydantic_in_sys_modules": "pydantic" in sys.modules,
        "pydantic": _tries("pydantic"),
        "pydantic_spec": importlib.util.find_spec("pydantic") is not None,
        "yaml": _tries("yaml"),
        "boto3": _tries("boto3"),
        "libs": _tries("libs.shared"),
        "services": _tries("services"),
        "own": _tries("helper"),
        "stack": _tries("stack"),
        "stdlib_private": _tries(private),
    }
'''


@pytest.fixture
def model() -> RuntimeModel:
    return RuntimeModel.from_stacks([api_stack()], repo_root=FIXTURE_APP)


def _function(model: RuntimeModel, logical_id: str, folder: Path, requirements: str):
    folder.mkdir()
    (folder / "probe.py").write_text(PROBE)
    (folder / "helper.py").write_text("VALUE = 1\n")
    (folder / "stack.py").write_text("STACK = 1\n")  # the service's stack: the build leaves it out of the zip
    (folder / "requirements.txt").write_text(requirements)
    return dataclasses.replace(model.functions[logical_id], handler="probe.handler", source_dir=folder)


def _pools(specs, logs: Logs, *, template: bool) -> tuple[Template | None, list[FunctionPool]]:
    envs = {}
    for spec in specs:
        env = worker_environment(spec, base={}, region="eu-west-1")
        env["PYTHONPATH"] = STAGEWISE_ROOT
        envs[spec.logical_id] = env
    forks = None
    if template:
        forks = Template("python3.12", envs=envs, source_dirs=[s.source_dir for s in specs], roots=[], log=logs,
                         candidates=["pydantic"])
        forks.start()
        assert eventually(lambda: forks.ready or forks.failure is not None) and forks.ready
    return forks, [FunctionPool(spec, env=envs[spec.logical_id], repo_root=FIXTURE_APP, log=logs, max_workers=1,
                                template=forks) for spec in specs]


def test_a_forked_worker_sees_its_own_layer_not_the_one_the_template_preloaded_for_another(model, tmp_path):
    with_pydantic = _function(model, "Echo", tmp_path / "a", "pydantic==2.14.3  # the layer\n")
    without = _function(model, "Other", tmp_path / "b", "# no layer\n")
    logs = Logs()
    template, pools = _pools([with_pydantic, without], logs, template=True)
    try:
        theirs, mine = (pool.invoke({}).payload for pool in pools)
        assert all(isinstance(next(iter(pool._all)).process, ForkedProcess) for pool in pools)
        assert template.preloaded == ["pydantic"]
        assert theirs["pydantic_in_sys_modules"] and theirs["pydantic"] == "ok" and theirs["pydantic_spec"]
        # preloaded by the template, but not in this function's layer: gone, and not found, as on Lambda
        assert not mine["pydantic_in_sys_modules"]
        assert mine["pydantic"] == "No module named 'pydantic'" and not mine["pydantic_spec"]
        for answer in (theirs, mine):
            assert answer["yaml"] == "No module named 'yaml'"  # installed here (a tool's), in no layer
            assert answer["boto3"] == "ok"  # the Lambda runtime ships it
            assert answer["libs"] == "ok" and answer["own"] == "ok"  # the code zip: its folder and libs
            assert answer["services"] == "No module named 'services'"  # the repo root is not in the zip
            assert answer["stack"] == "No module named 'stack'"  # nor the service's stack.py
            assert answer["stdlib_private"] == "ok"
    finally:
        stop(template, pools)


def test_a_plain_worker_keeps_to_its_function_scope_too(model, tmp_path):
    spec = _function(model, "Echo", tmp_path / "a", "aws-lambda-powertools==3.37.0\n")
    _, (pool,) = _pools([spec], Logs(), template=False)
    try:
        answer = pool.invoke({}).payload
        assert answer["pydantic"] == "No module named 'pydantic'" and answer["yaml"] == "No module named 'yaml'"
        assert answer["boto3"] == answer["libs"] == answer["own"] == answer["stdlib_private"] == "ok"
    finally:
        pool.stop()


def test_an_import_outside_the_layer_fails_init_as_on_lambda_and_says_which_file_to_add_it_to(model, tmp_path):
    spec = _function(model, "Echo", tmp_path / "a", "# no layer\n")
    (tmp_path / "a" / "probe.py").write_text("import yaml\n\ndef handler(event, context):\n    return 1\n")
    logs = Logs()
    _, (pool,) = _pools([spec], logs, template=False)
    try:
        result = pool.invoke({})
        assert result.status is InvokeStatus.INIT_ERROR
        assert result.error["errorType"] == "Runtime.ImportModuleError"
        assert result.error["errorMessage"] == "No module named 'yaml'"
        hint = next(line for line in logs if "init failed: ModuleNotFoundError" in line)
        assert f"'yaml' is installed here but is neither in {tmp_path / 'a' / 'requirements.txt'}" in hint
    finally:
        pool.stop()


def test_a_standard_module_the_functions_python_no_longer_has_is_not_found_here_either(model, tmp_path):
    probe = "import asyncore\nimport imp\n\ndef handler(event, context):\n    return 1\n"
    spec = _function(model, "Echo", tmp_path / "a", "# no layer\n")
    (tmp_path / "a" / "probe.py").write_text(probe)
    older = dataclasses.replace(_function(model, "Other", tmp_path / "b", "# no layer\n"), runtime="python3.11")
    (tmp_path / "b" / "probe.py").write_text(probe)
    logs = Logs()
    _, pools = _pools([spec, older], logs, template=False)
    try:
        on_312, on_311 = (pool.invoke({}) for pool in pools)
        assert on_312.status is InvokeStatus.INIT_ERROR  # this interpreter (3.11) has asyncore; Lambda's 3.12 not
        assert on_312.error["errorMessage"] == "No module named 'asyncore'"
        hint = next(line for line in logs if "init failed: ModuleNotFoundError" in line)
        assert "'asyncore' was removed from the standard library in Python 3.12" in hint
        assert on_311.status is InvokeStatus.OK  # a python3.11 function still has both
    finally:
        for pool in pools:
            pool.stop()


def test_a_layer_holds_what_its_requirements_require_transitively_and_only_the_extras_asked_for(tmp_path):
    bare, traced = tmp_path / "bare.txt", tmp_path / "traced.txt"
    bare.write_text("aws-lambda-powertools==3.37.0\npydantic==2.14.3\n")
    traced.write_text("aws-lambda-powertools[tracer]==3.37.0\n")
    names = layer_names(str(bare), PROVIDED)
    assert {"aws_lambda_powertools", "pydantic", "pydantic_core", "annotated_types", "typing_extensions",
            "boto3", "botocore", "dateutil", "urllib3"} <= names
    assert "aws_xray_sdk" not in names and "yaml" not in names and "stagewise" not in names
    assert {"aws_xray_sdk", "wrapt"} <= layer_names(str(traced), PROVIDED)
    assert layer_names(str(tmp_path / "missing.txt"), ()) == frozenset()


def test_a_scope_travels_as_json():
    scope = Scope("/x/requirements.txt", PROVIDED, ("handlers", "libs"), "3.13")
    assert Scope.from_json(scope.to_json()) == scope
    assert os.path.basename(scope.to_json()["layer"]) == "requirements.txt"


def test_adding_the_package_to_the_requirements_file_fixes_the_import_without_a_restart(app_copy, logs):
    from tests.runtime.conftest import start_runtime

    handlers = app_copy / "services/echo/echo_fn/handlers.py"
    runtime = start_runtime(app_copy, logs)
    try:
        import httpx

        with httpx.Client(base_url=runtime.url, timeout=10) as client:
            assert client.get("/pid").status_code == 200
            handlers.write_text("import yaml\n" + handlers.read_text())
            assert eventually(lambda: client.get("/pid").status_code == 502)  # hot reload: the new import fails
            assert any("'yaml' is installed here but is neither in" in line for line in logs)
            (app_copy / "services/echo/requirements.txt").write_text("PyYAML  # the layer gets it\n")
            assert eventually(lambda: client.get("/pid").status_code == 200)  # a fresh template, a wider scope
    finally:
        runtime.stop()


def test_a_module_added_to_the_folder_after_a_failed_init_is_found_by_the_next_worker(model, tmp_path):
    spec = _function(model, "Echo", tmp_path / "a", "# no layer\n")
    (tmp_path / "a" / "probe.py").write_text("import later\n\ndef handler(event, context):\n    return later.VALUE\n")
    _, (pool,) = _pools([spec], Logs(), template=False)
    try:
        assert pool.invoke({}).status is InvokeStatus.INIT_ERROR  # later.py does not exist yet
        (tmp_path / "a" / "later.py").write_text("VALUE = 7\n")
        assert pool.invoke({}).payload == 7  # no reload involved: the next worker's scope has it
    finally:
        pool.stop()
