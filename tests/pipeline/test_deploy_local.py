"""End to end on the local provider: deploy from empty, change detection, a failing phase, rerun."""

from __future__ import annotations

from pathlib import Path

from stagewise.build.record import BuildResult
from stagewise.config import load_project
from stagewise.pipeline.executor import Outcome
from stagewise.pipeline.runner import RunState
from stagewise.pipeline.source import build_release
from tests.pipeline.conftest import Stages, set_knobs

INFRA, API, JOB = "dev-shop-infra", "dev-shop-api", "dev-shop-job"


def release(stages: Stages, project_dir: Path, tmp_path: Path, stage: str = "dev"):
    project = load_project(project_dir / "stagewise.toml")
    stages.project = project
    config = project.stage(stage)
    return build_release(project, config, account_id=project.accounts[config.account].id,
                         out_dir=tmp_path / "build")


def outcomes(result) -> dict[str, Outcome]:
    return {o.stack: o.outcome for o in result.outcomes}


def test_deploy_from_empty_runs_three_phases(stages, project_dir, tmp_path):
    stages.target("dev").store.bootstrap()
    result = stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    assert result.state is RunState.SUCCEEDED
    assert [(o.stack, o.phase) for o in result.outcomes] == [(INFRA, 0), (API, 1), (JOB, 2)]
    assert set(outcomes(result).values()) == {Outcome.DEPLOYED}
    history = stages.target("dev").history
    assert history.live("dev").build == result.build
    assert history.load("dev", result.build).result is BuildResult.SUCCEEDED


def test_no_op_deploy_makes_zero_write_calls(stages, project_dir, tmp_path, calls):
    stages.target("dev").store.bootstrap()
    stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    again = release(stages, project_dir, tmp_path)
    calls.clear()
    result = stages.runner("dev").ship(again)
    assert result.state is RunState.NOTHING
    assert set(outcomes(result).values()) == {Outcome.SKIPPED}
    assert calls.writes() == []
    assert calls.calls, "the skip decision reads the live state"


def test_a_handler_change_updates_only_its_stack(stages, project_dir, tmp_path, calls):
    stages.target("dev").store.bootstrap()
    stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    handler = project_dir / "services/api/api_pkg/handler.py"
    handler.write_text(handler.read_text().replace("VERSION = 1", "VERSION = 2"))
    changed = release(stages, project_dir, tmp_path)
    calls.clear()
    result = stages.runner("dev").ship(changed)
    assert result.state is RunState.SUCCEEDED
    assert outcomes(result) == {INFRA: Outcome.SKIPPED, API: Outcome.DEPLOYED, JOB: Outcome.SKIPPED}
    assert calls.writes_about(API)
    assert calls.writes_about(INFRA) == [] and calls.writes_about(JOB) == []
    fn = stages.target("dev").provider.physical_ids(API)["Hello"]
    code = stages.target("dev").target.client("lambda").get_function(FunctionName=fn)["Code"]
    assert code["Location"]  # the function runs the new artifact
    api_keys = [f.code_key for f in changed.record.functions if f.stack == API]
    assert stages.target("dev").store.has(api_keys[0])


def test_a_failing_phase_keeps_earlier_phases_and_the_live_build(stages, project_dir, tmp_path):
    target = stages.target("dev")
    target.store.bootstrap()
    first = stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    set_knobs(project_dir, "infra", extra_export=True)
    set_knobs(project_dir, "api", fail=True)
    result = stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    assert result.state is RunState.FAILED and result.exit_code != 0
    assert outcomes(result) == {INFRA: Outcome.DEPLOYED, API: Outcome.FAILED, JOB: Outcome.NOT_RUN}
    by_stack = {o.stack: o for o in result.outcomes}
    assert by_stack[JOB].reason == f"not run: {API} failed"
    assert "ssm-broken" in by_stack[API].reason or "Broken" in by_stack[API].reason
    assert "Extra" in target.provider.outputs(INFRA)  # phase 1 stays
    assert "Broken" not in target.provider.physical_ids(API)  # the failed stack rolled back
    assert target.history.live("dev").build == first.build  # the last good build stays live
    assert target.history.load("dev", result.build).result is BuildResult.FAILED

    set_knobs(project_dir, "api", fail=False)
    rerun = stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    assert rerun.state is RunState.SUCCEEDED
    # api is back to the live template (healthy after its rollback), job never changed
    assert outcomes(rerun) == {INFRA: Outcome.SKIPPED, API: Outcome.SKIPPED, JOB: Outcome.SKIPPED}
    assert target.history.live("dev").build == rerun.build
