"""Worker pools without HTTP: environment, tracing flag, the concurrency bound."""

import asyncio
import dataclasses
import json
import subprocess
import sys
import threading

import pytest

from stagewise.runtime.model import RuntimeModel
from stagewise.runtime.workers import (
    FunctionPool,
    InvokeStatus,
    WorkerGone,
    kill_worker_process,
    worker_environment,
)
from tests.runtime.stacks import FIXTURE_APP, api_stack


@pytest.fixture
def model() -> RuntimeModel:
    return RuntimeModel.from_stacks([api_stack()], repo_root=FIXTURE_APP)


def pool_for(model, logical_id, **env) -> FunctionPool:
    spec = model.functions[logical_id]
    return FunctionPool(spec, env=worker_environment(spec, base=env, region="eu-west-1"), repo_root=FIXTURE_APP,
                        log=lambda line: None, max_workers=1)


def test_reserved_variables_win_over_the_functions(model):
    spec = model.functions["Env"]
    spec.environment["AWS_REGION"] = "mars-1"
    env = worker_environment(spec, base={"AWS_ENDPOINT_URL": "http://x"}, region="eu-west-1")
    assert env["AWS_REGION"] == "us-east-1"  # from the function's ARN
    assert env["AWS_ENDPOINT_URL"] == "http://x" and env["ENV_ONLY"] == "a"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].count("/") == 3


def test_trace_is_sampled_only_with_active_tracing_and_a_daemon(model):
    daemon = {"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000"}
    for active, env, sampled in ((True, {}, "0"), (False, daemon, "0"), (True, daemon, "1")):
        model.functions["Echo"] = dataclasses.replace(model.functions["Echo"], tracing=active)
        pool = pool_for(model, "Echo", **env)
        try:
            body = json.loads(pool.invoke({}).payload["body"])
            assert body["trace"].endswith(f";Sampled={sampled}")
        finally:
            pool.stop()


def test_a_callers_sampling_decision_wins(model):
    pool = pool_for(model, "Echo", AWS_XRAY_DAEMON_ADDRESS="127.0.0.1:2000")
    try:
        caller = "Root=1-6b0e97ed-83e0bd305c2fbeee8d5c1259;Parent=775d8b9c0b1393f4;Sampled=1"
        trace = json.loads(pool.invoke({}, trace_id=caller).payload["body"])["trace"]
        root, parent, sampled = trace.split(";")
        assert root == caller.split(";")[0] and sampled == "Sampled=1"
        assert parent != "Parent=775d8b9c0b1393f4"  # the function segment is the SDK's parent
    finally:
        pool.stop()


def test_bounded_pool_queues_instead_of_starting_more(model):
    pool = pool_for(model, "Pid")
    try:
        results = []
        threads = [threading.Thread(target=lambda: results.append(pool.invoke({}))) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [r.status for r in results] == [InvokeStatus.OK] * 3
        assert pool.started == 1
        assert sum(r.init_ms is not None for r in results) == 1  # one cold start, then warm
    finally:
        pool.stop()


def _sleeping(seconds: float) -> dict:
    return {"queryStringParameters": {"sleep": str(seconds)}}


def test_a_released_worker_goes_to_the_oldest_waiting_request_not_to_a_newcomer(model):
    """A request that arrives just as the worker is released waits its turn behind those already
    queued (before, the release woke every waiter and the newcomer could take the worker first)."""
    pool = pool_for(model, "Pid")
    finished: list[str] = []

    async def invoke(name: str, seconds: float) -> None:
        result = await pool.invoke_async(_sleeping(seconds))
        assert result.status is InvokeStatus.OK
        finished.append(name)

    async def scenario() -> None:
        await pool.invoke_async({})  # warm: the cold start's init is out of the way
        loop = asyncio.get_running_loop()
        release = pool._release
        newcomer: list[asyncio.Task] = []

        def release_then_a_newcomer(worker):  # a request arriving at the very moment of the release
            release(worker)
            if not newcomer:
                newcomer.append(loop.create_task(invoke("newcomer", 0)))

        pool._release = release_then_a_newcomer
        first = loop.create_task(invoke("first", 0.3))
        await asyncio.sleep(0.05)
        queued = [loop.create_task(invoke(f"queued-{n}", 0)) for n in range(3)]
        await asyncio.gather(first, *queued)
        await newcomer[0]

    try:
        asyncio.run(scenario())
        assert finished == ["first", "queued-0", "queued-1", "queued-2", "newcomer"]
    finally:
        pool.stop()


def test_a_request_waiting_longer_than_the_recheck_keeps_its_place_in_line(model):
    """Every WAIT_RECHECK_S a waiting request looks again whether it woke or not; doing so must not send
    it to the back of the line, behind requests that came after it (before, it left and rejoined)."""
    pool = pool_for(model, "Pid")
    finished: list[str] = []

    async def invoke(name: str, seconds: float) -> None:
        assert (await pool.invoke_async(_sleeping(seconds))).status is InvokeStatus.OK
        finished.append(name)

    async def scenario() -> None:
        await pool.invoke_async({})  # warm
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(invoke("first", 0.4))]  # t=0: runs until 0.4
        await asyncio.sleep(0.05)
        tasks.append(loop.create_task(invoke("a", 0.45)))  # handed the worker at 0.4, runs until ~0.85
        await asyncio.sleep(0.05)
        tasks.append(loop.create_task(invoke("b", 0)))  # t=0.1: its recheck comes at 0.6, while a runs
        await asyncio.sleep(0.35)
        tasks.append(loop.create_task(invoke("c", 0)))  # t=0.45: behind b; its recheck at 0.95
        await asyncio.gather(*tasks)

    try:
        asyncio.run(scenario())
        assert finished == ["first", "a", "b", "c"]
    finally:
        pool.stop()


def test_stopping_the_pool_ends_every_waiting_request_at_once(model):
    """Only the head of the line is woken by a change; each waiter that leaves wakes the next, so a
    stop reaches the whole line in a chain of wake-ups, not one recheck (WAIT_RECHECK_S) after another."""
    pool = pool_for(model, "Pid")

    async def scenario() -> tuple[list[object], float]:
        await pool.invoke_async({})
        loop = asyncio.get_running_loop()
        busy = loop.create_task(pool.invoke_async(_sleeping(2)))
        await asyncio.sleep(0.05)
        waiting = [loop.create_task(pool.invoke_async({})) for _ in range(4)]
        await asyncio.sleep(0.1)
        stopped_at = loop.time()
        await loop.run_in_executor(None, pool.stop)
        outcomes = await asyncio.gather(*waiting, return_exceptions=True)
        took = loop.time() - stopped_at
        await asyncio.gather(busy, return_exceptions=True)
        return outcomes, took

    outcomes, took = asyncio.run(scenario())
    assert all(isinstance(outcome, WorkerGone) for outcome in outcomes), outcomes
    assert took < 0.4  # well under one recheck per waiter (4 x 0.5 s)


def test_a_thread_waiting_for_a_worker_is_served_in_turn_with_event_loop_requests(model):
    pool = pool_for(model, "Pid")
    order: list[str] = []

    def thread_invoke() -> None:
        assert pool.invoke({}).status is InvokeStatus.OK
        order.append("thread")

    async def scenario() -> None:
        await pool.invoke_async({})
        first = asyncio.ensure_future(pool.invoke_async(_sleeping(0.3)))
        await asyncio.sleep(0.05)
        thread = threading.Thread(target=thread_invoke)
        thread.start()  # queued behind the first
        await asyncio.sleep(0.05)
        later = asyncio.ensure_future(pool.invoke_async({}))  # queued behind the thread
        await first
        await later
        order.append("later")
        await asyncio.get_running_loop().run_in_executor(None, thread.join)

    try:
        asyncio.run(scenario())
        assert order == ["thread", "later"]
    finally:
        pool.stop()


def test_module_tracker_reports_each_newly_imported_file_once(tmp_path, monkeypatch):
    from stagewise.runtime.worker_main import ModuleTracker

    (tmp_path / "late_import_probe.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    tracker = ModuleTracker()
    tracker.new_files()
    assert tracker.new_files() == []  # nothing imported since
    import late_import_probe  # noqa: F401 — imported during an "invocation"

    assert tracker.new_files() == [str((tmp_path / "late_import_probe.py").resolve())]
    assert tracker.new_files() == []
    sys.modules.pop("late_import_probe", None)


def test_a_payload_json_cannot_carry_fails_the_invocation_with_marshal_error():
    """As Lambda's runtime: the handler returned, but its answer is not JSON (a set here)."""
    import os

    from stagewise.runtime import worker_main
    from stagewise.runtime.protocol import read_frame, write_frame

    worker_reads, runtime_writes = os.pipe()
    runtime_reads, worker_writes = os.pipe()
    answers = iter([{"ids": {1, 2}}, {"ids": [1, 2]}])
    server = threading.Thread(target=worker_main.serve, daemon=True,
                              args=(lambda event, context: next(answers), worker_reads, worker_writes,
                                    worker_main.ModuleTracker()))
    server.start()
    try:
        message = {"type": "invoke", "event": {}, "request_id": "r", "arn": "arn", "deadline_ms": 0}
        write_frame(runtime_writes, message)
        failed = read_frame(runtime_reads)
        assert failed["ok"] is False and failed["error"]["errorType"] == "Runtime.MarshalError"
        assert "not JSON serializable" in failed["error"]["errorMessage"]
        write_frame(runtime_writes, message)
        assert read_frame(runtime_reads)["payload"] == {"ids": [1, 2]}  # the worker serves on
    finally:
        os.close(runtime_writes)  # the worker sees its input closed and returns
        server.join(timeout=5)
        for fd in (worker_reads, runtime_reads, worker_writes):
            os.close(fd)


def test_a_worker_killed_before_it_made_its_process_group_is_killed_all_the_same():
    # a worker forked from the template calls setsid() just after the fork; a kill that comes first
    # finds no group of that id: the worker itself must still die (else kill() waits for it forever)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # in our group, not its own
    try:
        kill_worker_process(child.pid)
        assert child.wait(timeout=5) == -9
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
