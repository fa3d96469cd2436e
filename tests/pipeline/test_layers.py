"""Dependency layers end to end on the local provider: a service with requirements.txt ships its
wheels as one LayerVersion its functions list in `Layers`; a handler-only change re-uploads only the
small code zip and leaves the layer untouched."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from stagewise.build import LayerCache
from stagewise.config import load_project
from stagewise.pipeline.runner import RunState
from stagewise.pipeline.source import build_release
from stagewise.provisioner import Action, Provisioner
from tests.pipeline.conftest import Stages

API = "dev-shop-api"


class FakePip:
    """Installs one small pure-Python package into --target (no network), counting calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, args: Sequence[str]) -> None:
        self.calls += 1
        site = Path(args[args.index("--target") + 1])
        site.mkdir(parents=True, exist_ok=True)
        (site / "tinydep.py").write_text("VALUE = 42\n")


def _release(stages: Stages, project_dir: Path, tmp_path: Path, pip: FakePip):
    project = load_project(project_dir / "stagewise.toml")
    stages.project = project
    config = project.stage("dev")
    return build_release(project, config, account_id=project.accounts[config.account].id,
                         out_dir=tmp_path / "build", pip=pip, cache=LayerCache(tmp_path / "layers"))


def test_functions_list_the_layer_and_a_handler_change_uploads_only_code(stages, project_dir, tmp_path, calls):
    (project_dir / "services/api/requirements.txt").write_text("tinydep==1.0\n")
    pip = FakePip()
    target = stages.target("dev")
    target.store.bootstrap()
    first = _release(stages, project_dir, tmp_path, pip)
    (layer_key,) = {f.layer_key for f in first.record.functions if f.stack == API}
    assert layer_key and layer_key.startswith("artifacts/deps-")
    assert stages.runner("dev").ship(first).state is RunState.SUCCEEDED

    state = Provisioner(target.target.client, account_id=target.target.account_id,
                        region=target.stage.region).describe(API)
    (layer_id,) = [lid for lid, r in state.resources.items() if r.type == "AWS::Lambda::LayerVersion"]
    layer = state.resources[layer_id]
    assert layer.properties["Content"]["S3Key"] == layer_key
    assert state.resources["Hello"].properties["Layers"] == [layer.physical_id]
    config = target.target.client("lambda").get_function_configuration(
        FunctionName=state.resources["Hello"].physical_id)
    assert [entry["Arn"] for entry in config["Layers"]] == [layer.physical_id]

    handler = project_dir / "services/api/api_pkg/handler.py"
    handler.write_text(handler.read_text().replace("VERSION = 1", "VERSION = 2"))
    changed = _release(stages, project_dir, tmp_path, pip)
    assert pip.calls == 1  # the layer came from the cache
    assert {f.layer_key for f in changed.record.functions if f.stack == API} == {layer_key}
    new_code = {f.code_key for f in changed.record.functions if f.stack == API}
    assert new_code.isdisjoint(f.code_key for f in first.record.functions)

    stack_template = changed.stacks[API].template
    plan = Provisioner(target.target.client, account_id=target.target.account_id,
                       region=target.stage.region).plan(API, stack_template, {})
    actions = {c.logical_id: c.action for c in plan.changes}
    assert actions[layer_id] is Action.UNCHANGED
    assert actions["Hello"] is Action.MODIFY

    calls.clear()
    assert stages.runner("dev").ship(changed).state is RunState.SUCCEEDED
    uploads = [c for c in calls.writes() if c[1] == "PutObject" and "artifacts/" in c[2]]
    assert [key for key in new_code if any(key in c[2] for c in uploads)] == sorted(new_code)
    assert len(uploads) == 1 and calls.writes_about("deps-") == []
    assert not [c for c in calls.writes() if c[0] == "lambda" and "Layer" in c[1]]
    after = Provisioner(target.target.client, account_id=target.target.account_id,
                        region=target.stage.region).describe(API)
    assert after.resources[layer_id].physical_id == layer.physical_id
