"""Workers forked from a warm template: isolation between functions, what the template refuses to
preload, the fallback to plain processes, and a dependency-layer change restarting the template."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import pytest

import stagewise
from stagewise.runtime.model import RuntimeModel
from stagewise.runtime.template import ForkedProcess, Template
from stagewise.runtime.workers import FunctionPool, InvokeStatus, worker_environment
from tests.runtime.conftest import Logs, start_runtime
from tests.runtime.stacks import FIXTURE_APP, api_stack

STAGEWISE_ROOT = str(Path(stagewise.__file__).resolve().parent.parent)


def eventually(check, limit: float = 10.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def forked_pools(specs, logs: Logs, *, candidates=None, base=None, path_extra=(), settle=True,
                 roots=()) -> tuple[Template, list]:
    envs = {}
    for spec in specs:
        env = worker_environment(spec, base=base or {}, region="eu-west-1")
        env["PYTHONPATH"] = os.pathsep.join([*path_extra, STAGEWISE_ROOT])
        envs[spec.logical_id] = env
    template = Template("python3.12", envs=envs, source_dirs=[s.source_dir for s in specs], roots=list(roots),
                        log=logs, candidates=candidates)
    template.start()
    if settle:  # ready to fork, or given up (a request before that gets a plain process)
        assert eventually(lambda: template.ready or template.failure is not None)
    pools = [FunctionPool(spec, env=envs[spec.logical_id], repo_root=FIXTURE_APP, log=logs, max_workers=1,
                          template=template) for spec in specs]
    return template, pools


def stop(template, pools) -> None:
    for pool in pools:
        pool.stop()
    template.stop()


@pytest.fixture
def model() -> RuntimeModel:
    return RuntimeModel.from_stacks([api_stack()], repo_root=FIXTURE_APP)


def test_forked_functions_share_no_module_global_or_variable(model):
    echo = dataclasses.replace(model.functions["Echo"], handler="echo_fn.handlers.state")
    other = dataclasses.replace(model.functions["Other"], handler="other_fn.handlers.state")
    logs = Logs()
    template, (echo_pool, other_pool) = forked_pools([echo, other], logs)
    try:
        first, second = (echo_pool.invoke({}).payload for _ in range(2))
        theirs = other_pool.invoke({}).payload
        assert isinstance(next(iter(echo_pool._all)).process, ForkedProcess)
        assert (first["calls"], second["calls"]) == (1, 2)  # one warm worker keeps its globals …
        assert "echo_fn.handlers" in first["modules"] and not any(m.startswith("other_fn") for m in first["modules"])
        assert "other_fn.handlers" in theirs["modules"] and not any(m.startswith("echo_fn") for m in theirs["modules"])
        assert first["env"]["ECHO_ONLY"] == "echo-secret-name" and "OTHER_ONLY" not in first["env"]
        assert theirs["env"]["OTHER_ONLY"] == "b" and "ECHO_ONLY" not in theirs["env"]
        assert first["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "dev-t-Echo"
        assert theirs["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "dev-t-Other"
        assert any("template python3.12: preloaded" in line for line in logs)
    finally:
        stop(template, (echo_pool, other_pool))
    # … and a fresh worker of the same function starts from the template again, not from the old one
    template, (echo_pool,) = forked_pools([echo], Logs())
    try:
        assert echo_pool.invoke({}).payload["calls"] == 1
    finally:
        stop(template, (echo_pool,))


def test_a_module_reading_a_per_function_variable_at_import_is_not_preloaded(model, tmp_path):
    (tmp_path / "envy.py").write_text("import os\nVALUE = os.environ.get('ECHO_ONLY', 'unset')\n")
    (tmp_path / "calm.py").write_text("import os\nVALUE = os.environ.get('AWS_ENDPOINT_URL')\n")
    (tmp_path / "probe.py").write_text(
        "import sys\nimport envy\n\ndef handler(event, context):\n"
        "    return {'envy': envy.VALUE, 'calm_preloaded': 'calm' in sys.modules}\n")
    # the probes are the functions' own code (their folder): what a function may import (import_scope.py)
    echo = dataclasses.replace(model.functions["Echo"], handler="probe.handler", source_dir=tmp_path)
    other = dataclasses.replace(model.functions["Other"], handler="probe.handler", source_dir=tmp_path)
    logs = Logs()
    template, pools = forked_pools([echo, other], logs, candidates=["calm", "envy"],
                                   base={"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, path_extra=[str(tmp_path)])
    try:
        answers = [pool.invoke({}).payload for pool in pools]
        # ECHO_ONLY is set for one function only: envy, preloaded, would have read the template's "unset"
        assert answers == [{"envy": "echo-secret-name", "calm_preloaded": True},
                           {"envy": "unset", "calm_preloaded": True}]
        assert template.preloaded == ["calm"]
        assert any("not envy (its import reads ECHO_ONLY)" in line for line in logs)
    finally:
        stop(template, pools)


def test_botocore_data_is_read_once_in_the_template_for_the_services_the_code_names_and_its_calls_sent_directly(model, tmp_path):
    (tmp_path / "sdk_probe.py").write_text(
        "import os\nimport boto3\n\n"
        "def handler(event, context):\n"
        "    session = boto3.session.Session(region_name='eu-west-1')\n"
        "    loader = session._session.get_component('data_loader')\n"
        "    had = ('load_service_model', 'dynamodb', 'service-2') in loader._cache\n"
        "    client = session.client('dynamodb', endpoint_url='http://127.0.0.1:1')\n"
        "    return {'read_before': had, 'service': client.meta.service_model.service_name,\n"
        "            'data_path': os.environ.get('AWS_DATA_PATH'),\n"
        "            'http': type(client._endpoint.http_session).__name__}\n"
        "def never_called():\n    return boto3.client('dynamodb')  # names the service for the template\n")
    echo = dataclasses.replace(model.functions["Echo"], handler="sdk_probe.handler", source_dir=tmp_path)
    other = dataclasses.replace(model.functions["Other"], handler="sdk_probe.handler", source_dir=tmp_path,
                                environment={**model.functions["Other"].environment, "AWS_DATA_PATH": str(tmp_path)})
    logs = Logs()
    template, pools = forked_pools([echo, other], logs, candidates=["boto3", "botocore"], path_extra=[str(tmp_path)],
                                   roots=[tmp_path])
    try:
        shared, own = (pool.invoke({}).payload for pool in pools)
        assert template.sdk_services == ["dynamodb"]
        # … and its calls to a loopback endpoint are sent directly (sdk_http.py)
        assert shared == {"read_before": True, "service": "dynamodb", "data_path": None, "http": "LoopbackSession"}
        # a function with its own AWS_DATA_PATH gets botocore's own loader for that path
        assert own == {"read_before": False, "service": "dynamodb", "data_path": str(tmp_path),
                       "http": "LoopbackSession"}
        assert any("botocore data of dynamodb" in line for line in logs)
    finally:
        stop(template, pools)


def test_a_template_that_preloads_no_botocore_does_not_import_it_for_its_workers(model, tmp_path):
    (tmp_path / "plain.py").write_text("X = 1\n")
    (tmp_path / "no_sdk.py").write_text("import sys\n\ndef handler(event, context):\n"
                                         "    return {'botocore': 'botocore' in sys.modules}\n")
    echo = dataclasses.replace(model.functions["Echo"], handler="no_sdk.handler", source_dir=tmp_path)
    template, pools = forked_pools([echo], Logs(), candidates=["plain"], path_extra=[str(tmp_path)])
    try:
        assert template.preloaded == ["plain"]
        # botocore (and the direct SDK path, sdk_http.py) cost a template ~0.2 s to import: only when preloaded
        assert pools[0].invoke({}).payload == {"botocore": False}
        assert isinstance(next(iter(pools[0]._all)).process, ForkedProcess)
    finally:
        stop(template, pools)


def test_the_services_the_code_names_are_found_by_reading_it(tmp_path):
    from stagewise.runtime.preload import scan

    (tmp_path / "a.py").write_text("import boto3\nsns = boto3.client('sns')\n"
                                   "table = boto3.session.Session().resource('dynamodb')\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "b.py").write_text("from libs import aws\nname = 'ssm'\n"
                                           "aws.client('sqs')\naws.client(name)\nsession.create_client('xray')\n"
                                           "print('client')\nclient()\n")
    (tmp_path / "broken.py").write_text("def (:\n")
    assert list(scan([tmp_path]).services) == ["dynamodb", "sns", "sqs", "xray"]


def test_a_template_that_cannot_fork_falls_back_to_plain_processes(model, tmp_path):
    (tmp_path / "threaded.py").write_text("import threading, time\n"
                                          "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n")
    logs = Logs()
    template, pools = forked_pools([model.functions["Echo"]], logs, candidates=["threaded"],
                                   path_extra=[str(tmp_path)])
    try:
        for _ in range(2):
            assert pools[0].invoke({}).status is InvokeStatus.OK
        assert not isinstance(next(iter(pools[0]._all)).process, ForkedProcess)
        warnings = [line for line in logs if line.startswith("warning: worker template")]
        assert warnings == ["warning: worker template python3.12 has threads after its preload; "
                            "starting workers as plain processes"]
    finally:
        stop(template, pools)


def test_a_crashed_forked_worker_is_replaced_without_touching_the_others(app_copy, logs):
    runtime = start_runtime(app_copy, logs)
    try:
        import httpx

        with httpx.Client(base_url=runtime.url, timeout=10) as client:
            pid_before = client.get("/pid").json()["pid"]
            assert client.get("/crash").status_code == 502
            assert client.get("/crash").status_code == 502
            assert client.get("/pid").json()["pid"] == pid_before  # the other function's worker lives on
        crashed = [line for line in logs if "Runtime exited with error: exit status 3" in line]
        assert len(crashed) == 2  # the template reaped the forked worker and reported its exit code
    finally:
        runtime.stop()


def test_a_dependency_layer_change_restarts_the_template_and_its_workers(app_copy, logs):
    runtime = start_runtime(app_copy, logs)
    try:
        import httpx

        with httpx.Client(base_url=runtime.url, timeout=10) as client:
            pid_before = client.get("/pid").json()["pid"]
            template = runtime.workers.templates["python3.12"]
            template_pid = template.pid
            (app_copy / "services/echo/requirements.txt").write_text("# a new dependency\n")
            assert eventually(lambda: template.pid not in (None, template_pid))
            assert eventually(lambda: client.get("/pid").json()["pid"] != pid_before)
        assert any("reload:" in line and "Pid" in line for line in logs)
    finally:
        runtime.stop()


def test_a_worker_started_while_the_template_preloads_is_replaced_by_a_forked_one(model, tmp_path):
    (tmp_path / "slow_library.py").write_text("import time\ntime.sleep(1.5)\n")
    logs = Logs()
    template, (pool,) = forked_pools([model.functions["Pid"]], logs, candidates=["slow_library"],
                                     path_extra=[str(tmp_path)], settle=False)
    try:
        first = pool.invoke({})  # the template is still importing: a plain process answers at once
        assert first.status is InvokeStatus.OK and first.init_ms is not None
        assert not isinstance(next(iter(pool._all)).process, ForkedProcess)
        assert eventually(lambda: template.ready)
        pool.invoke({})  # served by the plain worker, which then makes way for a forked one
        assert eventually(lambda: [type(w.process) for w in pool._all] == [ForkedProcess])
        assert pool.invoke({}).status is InvokeStatus.OK
        assert isinstance(next(iter(pool._all)).process, ForkedProcess)
        assert not any(line.startswith("warning") for line in logs)
    finally:
        stop(template, (pool,))


def test_a_cold_start_waits_a_little_for_a_template_about_to_be_ready(model, tmp_path):
    (tmp_path / "quick_library.py").write_text("import time\ntime.sleep(0.1)\n")
    template, (pool,) = forked_pools([model.functions["Pid"]], Logs(), candidates=["quick_library"],
                                     path_extra=[str(tmp_path)], settle=False)
    try:
        assert not template.ready  # still importing (the interpreter's start alone takes longer than this)
        assert pool.invoke({}).status is InvokeStatus.OK
        assert isinstance(next(iter(pool._all)).process, ForkedProcess)  # forked: it waited for the template
    finally:
        stop(template, (pool,))


def test_a_worker_over_its_memory_size_fails_the_invocation_and_is_replaced(model):
    """As Lambda stops a function past its MemorySize: the call fails with Runtime.OutOfMemory, the next
    one gets a fresh (forked) worker, and another function's worker is not touched."""
    hog = dataclasses.replace(model.functions["Echo"], handler="echo_fn.handlers.hog", memory_mb=160)
    other = dataclasses.replace(model.functions["Echo"], logical_id="Calm", name="dev-t-Calm",
                                handler="echo_fn.handlers.state")
    logs = Logs()
    template, (hog_pool, other_pool) = forked_pools([hog, other], logs)
    try:
        assert other_pool.invoke({}).payload["calls"] == 1
        small = hog_pool.invoke({"mb": 1})
        assert small.status is InvokeStatus.OK
        first_pid = json.loads(small.payload["body"])["pid"]
        over = hog_pool.invoke({"mb": 200})
        assert over.status is InvokeStatus.CRASHED
        assert over.error["errorType"] == "Runtime.OutOfMemory" and "over MemorySize 160 MB" in over.error["errorMessage"]
        after = hog_pool.invoke({"mb": 1})
        assert after.status is InvokeStatus.OK and json.loads(after.payload["body"])["pid"] != first_pid
        assert other_pool.invoke({}).payload["calls"] == 2  # the same warm worker as before
        assert any("Runtime.OutOfMemory" in line for line in logs)
    finally:
        stop(template, (hog_pool, other_pool))
