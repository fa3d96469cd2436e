"""End to end on the local provider: promote to another account, rollback, remove, the lock,
and recovery after an interrupted run."""

from __future__ import annotations

import pytest

from stagewise.build.record import BuildResult
from stagewise.errors import UserError
from stagewise.pipeline.executor import Outcome
from stagewise.pipeline.history import Kind
from stagewise.pipeline.promote import promote
from stagewise.pipeline.remover import guard_protected
from stagewise.pipeline.rollback import rollback
from stagewise.pipeline.runner import RunState
from stagewise.pipeline.store import LockHeld, LockHolder, NotBootstrapped
from tests.helpers import make_repo
from tests.pipeline.conftest import set_knobs
from tests.pipeline.test_deploy_local import release


def deploy_dev(stages, project_dir, tmp_path):
    stages.target("dev").store.bootstrap()
    result = stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    assert result.state is RunState.SUCCEEDED
    return result


def code_key(target, stack):
    fn = target.provider.physical_ids(stack)["Hello"]
    config = target.target.client("lambda").get_function(FunctionName=fn)
    return config["Configuration"]["FunctionName"], target.history.live_record(target.stage.name)


def test_promote_gives_prod_the_dev_artifacts_in_its_own_account(stages, project_dir, tmp_path):
    make_repo(project_dir)  # promote ships a build made from a commit, at that commit
    dev_result = deploy_dev(stages, project_dir, tmp_path)
    prod = stages.target("prod")
    prod.store.bootstrap()
    result = promote(stages.target("dev"), stages.runner("prod"))
    assert result.state is RunState.SUCCEEDED
    assert {o.stack for o in result.outcomes} == {"prod-shop-infra", "prod-shop-api", "prod-shop-job"}
    dev_record = stages.target("dev").history.load("dev", dev_result.build)
    prod_record = prod.history.live_record("prod")
    assert prod_record.kind is Kind.PROMOTE and prod_record.source == f"dev/{dev_result.build}"
    assert {f.code_key for f in prod_record.build.functions} == {f.code_key for f in dev_record.build.functions}
    for key in prod_record.artifacts:
        assert prod.store.has(key)  # copied into prod's own bucket
    hello = prod.provider.physical_ids("prod-shop-api")["Hello"]
    assert prod.target.account_id == "222222222222"
    assert prod.target.client("lambda").get_function(FunctionName=hello)["Configuration"]["FunctionName"] == hello

    # prod is protected: every stack is tagged, guarded against deletion, and keeps its retained table
    cfn = prod.target.client("cloudformation")
    infra = cfn.describe_stacks(StackName="prod-shop-infra")["Stacks"][0]
    assert infra["EnableTerminationProtection"] is True
    assert {t["Key"]: t["Value"] for t in infra["Tags"]} == {
        "app": "shop", "stage": "prod", "service": "infra", "build": prod_record.id}
    assert "LogicalResourceId/Table" in cfn.get_stack_policy(StackName="prod-shop-infra")["StackPolicyBody"]
    removed = stages.runner("prod").remove()  # the command asked for --force and the typed name first
    assert removed.state is RunState.SUCCEEDED and prod.provider.health("prod-shop-infra")[1] == ""


def test_promote_refuses_a_stage_without_a_live_build(stages):
    stages.target("dev").store.bootstrap()
    stages.target("prod").store.bootstrap()
    with pytest.raises(UserError, match="no live build to promote"):
        promote(stages.target("dev"), stages.runner("prod"))


def test_rollback_undoes_an_added_export_and_its_importer_in_the_right_order(stages, project_dir, tmp_path):
    first = deploy_dev(stages, project_dir, tmp_path)
    set_knobs(project_dir, "infra", extra_export=True)
    set_knobs(project_dir, "job", import_extra=True)
    second = stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    assert second.state is RunState.SUCCEEDED
    target = stages.target("dev")
    assert "UsesExtra" in target.provider.physical_ids("dev-shop-job")

    result = rollback(stages.runner("dev"), None)
    assert result.state is RunState.SUCCEEDED
    order = [o.stack for o in result.outcomes]
    assert order.index("dev-shop-job") < order.index("dev-shop-infra")
    assert "Extra" not in target.provider.outputs("dev-shop-infra")
    assert "UsesExtra" not in target.provider.physical_ids("dev-shop-job")
    record = target.history.live_record("dev")
    assert record.kind is Kind.ROLLBACK and record.source == first.build
    assert record.build.id.rsplit("-", 1)[1] == first.build.rsplit("-", 1)[1]  # same content digest


def test_rollback_refuses_a_failed_build(stages, project_dir, tmp_path):
    deploy_dev(stages, project_dir, tmp_path)
    set_knobs(project_dir, "api", fail=True)
    failed = stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    assert failed.state is RunState.FAILED
    with pytest.raises(UserError, match="deployed completely"):
        rollback(stages.runner("dev"), failed.build)


def test_remove_goes_in_reverse_and_lists_retained_resources(stages, project_dir, tmp_path):
    deploy_dev(stages, project_dir, tmp_path)
    result = stages.runner("dev").remove()
    assert result.state is RunState.SUCCEEDED
    assert [o.stack for o in result.outcomes] == ["dev-shop-job", "dev-shop-api", "dev-shop-infra"]
    assert {o.outcome for o in result.outcomes} == {Outcome.REMOVED}
    assert [(r.logical_id, r.physical_id) for r in result.retained] == [("Table", "dev-shop-items")]
    assert "aws dynamodb delete-table --table-name dev-shop-items" in result.retained[0].how_to_delete()
    target = stages.target("dev")
    assert target.provider.health("dev-shop-api")[1] == ""
    assert target.history.live("dev").build is None
    tables = target.target.client("dynamodb").list_tables()["TableNames"]
    assert "dev-shop-items" in tables  # retained


def test_a_protected_stage_needs_force_and_its_typed_name(project):
    prod = project.stage("prod")
    with pytest.raises(UserError, match="--force"):
        guard_protected(prod, force=False, ask_name=lambda: "prod")
    with pytest.raises(UserError, match="nothing was removed"):
        guard_protected(prod, force=True, ask_name=lambda: "dev")
    guard_protected(prod, force=True, ask_name=lambda: "prod")


def test_diff_holds_the_lock_and_leaves_no_change_set_or_empty_stack(stages, project_dir, tmp_path):
    target = stages.target("dev")
    target.store.bootstrap()
    planned = stages.runner("dev").diff(release(stages, project_dir, tmp_path))
    assert [p.plan.creating for p in planned.stacks if p.plan] == [True]  # infra; the others wait for its exports
    cfn = target.target.client("cloudformation")
    assert cfn.describe_stacks()["Stacks"] == []  # no REVIEW_IN_PROGRESS stack is left for a deploy to meet
    target.store.acquire("dev", LockHolder("ana@ci-7", 4242, "2026-01-02T03:04:05+00:00", "stagewise deploy"))
    with pytest.raises(LockHeld):
        stages.runner("dev").diff(release(stages, project_dir, tmp_path))


@pytest.mark.parametrize("change", [True, False], ids=["changed", "unchanged"])
def test_a_second_run_is_refused_while_the_lock_is_held(stages, project_dir, tmp_path, change):
    deploy_dev(stages, project_dir, tmp_path)
    target = stages.target("dev")
    target.store.acquire("dev", LockHolder("ana@ci-7", 4242, "2026-01-02T03:04:05+00:00", "stagewise deploy"))
    if change:
        set_knobs(project_dir, "infra", extra_export=True)
    with pytest.raises(LockHeld, match=r"ana@ci-7 \(pid 4242.*since 2026-01-02T03:04:05") as caught:
        stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    assert caught.value.exit_code == 3
    assert stages.runner("dev").force_unlock(lambda holder: holder.pid == 4242)
    assert target.store.lock_holder("dev") is None


def test_an_interrupted_run_is_reported_and_recovered(stages, project_dir, tmp_path):
    deploy_dev(stages, project_dir, tmp_path)
    target = stages.target("dev")
    handler = project_dir / "services/api/api_pkg/handler.py"
    handler.write_text(handler.read_text().replace("VERSION = 1", "VERSION = 3"))
    killed = release(stages, project_dir, tmp_path)
    # what kill -9 leaves behind: the record says PENDING and the lock stays
    target.history.save(killed.deploy_record())
    target.history.mark_running("dev", killed.record.id)
    target.store.acquire("dev", LockHolder("bo@laptop", 999999, "2026-01-02T03:04:05+00:00", "stagewise deploy"))
    with pytest.raises(LockHeld):
        stages.runner("dev").ship(killed)
    stages.runner("dev").force_unlock(lambda holder: True)
    runner = stages.runner("dev")
    result = runner.ship(release(stages, project_dir, tmp_path))
    assert result.state is RunState.SUCCEEDED
    assert any(f"build {killed.record.id} was interrupted" in note and "dev-shop-api: CREATE_COMPLETE (ready)" in note
               for note in runner.reporter.notes)
    assert target.history.load("dev", killed.record.id).result is BuildResult.FAILED
    assert target.store.lock_holder("dev") is None


def test_a_run_killed_before_its_record_was_written_is_recovered(stages, project_dir, tmp_path):
    """kill -9 between the running marker and the PENDING record: the next run says so and ships."""
    deploy_dev(stages, project_dir, tmp_path)
    target = stages.target("dev")
    target.history.mark_running("dev", "b-killed-early")
    runner = stages.runner("dev")
    handler = project_dir / "services/api/api_pkg/handler.py"
    handler.write_text(handler.read_text().replace("VERSION = 1", "VERSION = 4"))
    assert runner.ship(release(stages, project_dir, tmp_path)).state is RunState.SUCCEEDED
    assert "build b-killed-early was interrupted before it touched a stack" in runner.reporter.notes
    assert target.history.running("dev") is None and "b-killed-early" not in target.history.ids("dev")


def test_an_account_without_bootstrap_is_named(stages, project_dir, tmp_path):
    with pytest.raises(NotBootstrapped, match="stagewise bootstrap --account dev"):
        stages.runner("dev").ship(release(stages, project_dir, tmp_path))


def test_bootstrap_makes_a_private_versioned_encrypted_bucket(stages):
    store = stages.target("prod").store
    assert store.bootstrap() is True
    assert store.bootstrap() is False  # idempotent
    s3 = store.s3
    assert s3.get_bucket_versioning(Bucket=store.bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=store.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    rules = s3.get_bucket_encryption(Bucket=store.bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert store.bucket == "stagewise-222222222222-us-east-1-artifacts"


def test_remove_after_a_failed_first_deploy_removes_what_was_created(stages, project_dir, tmp_path):
    stages.target("dev").store.bootstrap()
    set_knobs(project_dir, "api", fail=True)
    failed = stages.runner("dev").ship(release(stages, project_dir, tmp_path))
    assert failed.state is RunState.FAILED
    target = stages.target("dev")
    left = {name for name in ("dev-shop-infra", "dev-shop-api", "dev-shop-job") if target.provider.health(name)[1]}
    assert "dev-shop-infra" in left
    result = stages.runner("dev").remove()
    assert result.state is RunState.SUCCEEDED
    assert {o.stack for o in result.outcomes} == left
    assert all(not target.provider.health(name)[1] for name in left)


def test_removing_a_stage_with_nothing_deployed_says_so(stages):
    stages.target("dev").store.bootstrap()
    with pytest.raises(UserError, match="stage 'dev' has nothing deployed"):
        stages.runner("dev").remove()
    assert stages.target("dev").store.lock_holder("dev") is None


def test_a_pr_stage_uses_dev_infra_and_its_removal_leaves_dev_alone(stages, project_dir, tmp_path):
    stages.target("dev").store.bootstrap()
    with pytest.raises(UserError, match="pr-7-shop-api.*No export named dev-shop-infra-TopicArn"):
        stages.runner("pr-7").ship(release(stages, project_dir, tmp_path, "pr-7"))  # dev's infra is not there yet
    deploy_dev(stages, project_dir, tmp_path)
    result = stages.runner("pr-7").ship(release(stages, project_dir, tmp_path, "pr-7"))
    assert result.state is RunState.SUCCEEDED
    assert [o.stack for o in result.outcomes] == ["pr-7-shop-api", "pr-7-shop-job"]  # no infra of its own
    removed = stages.runner("pr-7").remove()
    assert [o.stack for o in removed.outcomes] == ["pr-7-shop-job", "pr-7-shop-api"]
    assert stages.target("dev").provider.health("dev-shop-infra")[1] == "CREATE_COMPLETE"
