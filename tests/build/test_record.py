"""The build record: its id, its content, and a lossless JSON round trip."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stagewise.build import BuildRecord, BuildResult, FunctionArtifact, GitState
from stagewise.errors import UserError

FUNCTIONS = [
    FunctionArtifact("dev-app-b", "b", "Fn", "artifacts/code-2.zip", "bb", 20, None),
    FunctionArtifact("dev-app-a", "a", "Fn", "artifacts/code-1.zip", "aa", 10, "artifacts/deps-1.zip"),
]
NOW = datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC)


def _record(**changes) -> BuildRecord:
    args = {
        "stage": "dev",
        "git": GitState("abc123", dirty=False),
        "functions": FUNCTIONS,
        "templates": {"dev-app-b": "t2", "dev-app-a": "t1"},
        "now": NOW,
    }
    return BuildRecord.create(**{**args, **changes})


def test_create_fills_id_time_git_and_starts_pending() -> None:
    record = _record()

    assert record.id.startswith("b-20261127030405000-") and len(record.id) == len("b-20261127030405000-") + 7
    assert (record.commit, record.dirty, record.stage) == ("abc123", False, "dev")
    assert record.created_at == "2026-11-27T03:04:05+00:00"
    assert record.result is BuildResult.PENDING
    assert [f.stack for f in record.functions] == ["dev-app-a", "dev-app-b"]


def test_id_suffix_follows_the_content_not_the_time() -> None:
    later = _record(now=datetime(2026, 11, 28, tzinfo=UTC))
    changed = _record(templates={"dev-app-a": "t1", "dev-app-b": "t3"})

    assert later.id.split("-")[-1] == _record().id.split("-")[-1]
    assert changed.id.split("-")[-1] != _record().id.split("-")[-1]


def test_the_id_carries_milliseconds() -> None:
    record = _record(now=datetime(2026, 11, 27, 3, 4, 5, 678_901, tzinfo=UTC))

    assert record.id.startswith("b-20261127030405678-")


def test_same_content_built_twice_at_once_gets_two_ids() -> None:
    args = {"stage": "dev", "git": GitState("abc123", dirty=False), "functions": FUNCTIONS,
            "templates": {"dev-app-a": "t1"}}

    ids = [BuildRecord.create(**args).id for _ in range(50)]

    assert len(set(ids)) == 50
    assert len({i.split("-")[-1] for i in ids}) == 1  # same content, same digest
    assert ids == sorted(ids)  # and they sort in the order they were made


def test_json_round_trip_keeps_everything() -> None:
    record = _record().with_result(BuildResult.FAILED, "pip failed")

    again = BuildRecord.from_json(record.to_json())

    assert again == record
    assert again.result is BuildResult.FAILED and isinstance(again.functions[0], FunctionArtifact)


def test_a_damaged_record_is_a_user_error() -> None:
    with pytest.raises(UserError, match="cannot be read"):
        BuildRecord.from_json('{"id": "b-1"}')
