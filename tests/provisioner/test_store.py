"""StateStore: in-flight checkpoints in a local folder, settled points in the cloud, and reads
that do not fetch what they already have."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from stagewise.provisioner import Provisioner
from stagewise.provisioner.state import StackState, StackStatus
from stagewise.provisioner.store import StateStore
from tests.provisioner.conftest import ACCOUNT, REGION

STACK = "dev-app-infra"


def _counting(cloud: Any, calls: list[str]) -> Any:
    def client(service: str) -> Any:
        made = cloud.client(service)
        made.meta.events.register("before-parameter-build", lambda model, params, **_: calls.append(
            f"{model.name}:{params.get('Bucket', '')}"))
        return made

    return client


def _state(status: StackStatus = StackStatus.CREATE_IN_PROGRESS, **outputs: str) -> StackState:
    return StackState(name=STACK, status=status, template={"Resources": {}}, outputs=dict(outputs))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "provisioner"


def _store(cloud: Any, folder: Path) -> StateStore:
    return StateStore(cloud.client, account_id=ACCOUNT, region=REGION, checkpoints=folder)


def _in_flight(cloud: Any, folder: Path) -> tuple[StateStore, StackState]:
    """A store with a stack saved at its start and checkpointed once since (a deploy in progress)."""
    store, state = _store(cloud, folder), _state()
    store.save(state)
    store.checkpoint(state)
    return store, state


def test_a_checkpoint_is_read_back_but_never_written_to_the_cloud(cloud: Any, folder: Path) -> None:
    calls: list[str] = []
    store = StateStore(_counting(cloud, calls), account_id=ACCOUNT, region=REGION, checkpoints=folder)
    state = _state()
    store.save(state)
    state.outputs["Half"] = "way"
    calls.clear()
    store.checkpoint(state)
    assert not [c for c in calls if c.startswith("PutObject")]
    assert (folder / f"{ACCOUNT}-{REGION}" / f"{STACK}.json").is_file()
    # another process (a fresh store) sees the progress too
    other = _store(cloud, folder)
    assert other.load(STACK).outputs == {"Half": "way"}
    assert [s.outputs for s in other.load_all()] == [{"Half": "way"}]


def test_a_settled_save_goes_to_the_cloud_and_drops_the_checkpoint(cloud: Any, folder: Path) -> None:
    store, state = _in_flight(cloud, folder)
    state.status = StackStatus.CREATE_COMPLETE
    store.save(state)
    assert list(folder.rglob("*.json")) == []
    assert _store(cloud, folder).load(STACK).status is StackStatus.CREATE_COMPLETE


def test_a_checkpoint_older_than_the_cloud_copy_is_ignored(cloud: Any, folder: Path) -> None:
    # GIVEN a process killed after its final save reached the cloud but before it removed the checkpoint
    store, state = _in_flight(cloud, folder)
    path = folder / f"{ACCOUNT}-{REGION}" / f"{STACK}.json"
    stale = path.read_bytes()
    state.status = StackStatus.CREATE_COMPLETE
    store.save(state)
    path.write_bytes(stale)
    # THEN readers take the newer cloud copy
    assert _store(cloud, folder).load(STACK).status is StackStatus.CREATE_COMPLETE


def test_remove_deletes_the_checkpoint_and_the_cloud_copy(cloud: Any, folder: Path) -> None:
    store, _ = _in_flight(cloud, folder)
    store.remove(STACK)
    assert store.load(STACK) is None and store.names() == [] and list(folder.rglob("*.json")) == []


def test_repeated_reads_fetch_only_what_changed(cloud: Any) -> None:
    calls: list[str] = []
    store = StateStore(_counting(cloud, calls), account_id=ACCOUNT, region=REGION)
    for name in ("dev-app-a", "dev-app-b"):
        store.save(StackState(name=name, status=StackStatus.CREATE_COMPLETE, template={}))
    reader = StateStore(_counting(cloud, calls), account_id=ACCOUNT, region=REGION)
    calls.clear()
    first = reader.load_all()
    first[0].outputs["Mutated"] = "by a caller"  # what a reader gets is its own copy
    second = reader.load_all()
    assert [c.split(":")[0] for c in calls].count("GetObject") == 2  # the second listing fetched nothing
    assert [s.name for s in second] == ["dev-app-a", "dev-app-b"] and second[0].outputs == {}
    store.save(StackState(name="dev-app-b", status=StackStatus.UPDATE_COMPLETE, template={}))
    calls.clear()
    assert [s.status for s in reader.load_all()] == [StackStatus.CREATE_COMPLETE, StackStatus.UPDATE_COMPLETE]
    assert [c.split(":")[0] for c in calls].count("GetObject") == 1  # only the changed one


def test_a_deploy_with_checkpoints_writes_the_cloud_only_at_start_and_end(cloud: Any, folder: Path) -> None:
    template = {"Resources": {f"Topic{i}": {"Type": "AWS::SNS::Topic", "Properties": {}} for i in range(4)}}
    puts: dict[str, int] = {}
    for label, checkpoints in (("cloud", None), ("local", folder)):
        calls: list[str] = []
        Provisioner(_counting(cloud, calls), account_id=ACCOUNT, region=REGION,
                    checkpoints=checkpoints).deploy(f"dev-app-{label}", template)
        puts[label] = sum(1 for c in calls if c.startswith("PutObject:stagewise-state"))
    assert puts == {"cloud": 6, "local": 2}  # 4 creates: start + one per create + end, or start + end
    shutil.rmtree(folder, ignore_errors=True)
