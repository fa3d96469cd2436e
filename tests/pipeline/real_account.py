"""One scenario for the AWS path (a stage reached through `[accounts]`, not `--local`): deploy the
fixture project, a no-op deploy and a diff that find nothing, then remove it all.

Run by tests/pipeline/test_aws_path.py against the local cloud (through AWS_ENDPOINT_URL, so the
AWS target, its credentials and CloudFormation's API are the code a first real run uses) and by
tests_aws/ (`make test-aws`) against a real account.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from stagewise.config import load_project
from stagewise.pipeline.executor import Outcome
from stagewise.pipeline.progress import LineProgress
from stagewise.pipeline.runner import Runner, RunState, open_stage
from stagewise.pipeline.source import build_release

FIXTURE = Path(__file__).parent / "fixtures" / "project"


def fixture_project(tmp_path: Path, account_id: str) -> Path:
    """The fixture project with its dev account set to `account_id`, reached by the default
    credential chain (no profile), and a stage of its own (`real-<random>`)."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    manifest = root / "stagewise.toml"
    text = manifest.read_text().replace('id = "111111111111"\nprofile = "shop-dev"', f'id = "{account_id}"')
    manifest.write_text(text + f"\n[stages.real-{uuid.uuid4().hex[:6]}]\n")
    return root


def ship_noop_diff_remove(project_dir: Path, out_dir: Path) -> None:
    project = load_project(project_dir / "stagewise.toml")
    stage = project.stage(next(name for name in project.stages if name.startswith("real-")))
    st = open_stage(project, stage, local=False)
    assert not st.target.local
    st.store.bootstrap()

    def runner() -> Runner:
        return Runner(st, reporter=LineProgress(), confirm=lambda plan: True, command="test-aws")

    def release():
        return build_release(project, stage, account_id=st.target.account_id, out_dir=out_dir)

    try:
        first = runner().ship(release())
        assert first.state is RunState.SUCCEEDED, [o.reason for o in first.outcomes]
        assert runner().ship(release()).state is RunState.NOTHING
        assert not runner().diff(release()).has_work
    finally:
        removed = runner().remove()
        assert removed.state is RunState.SUCCEEDED
        assert {o.outcome for o in removed.outcomes} <= {Outcome.REMOVED, Outcome.SKIPPED}
        for kept in removed.retained:  # the fixture's table is retained on purpose: tidy it up
            st.target.client("dynamodb").delete_table(TableName=kept.physical_id)
