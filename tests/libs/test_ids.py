"""libs.ids: time-ordered, validated ids."""

from __future__ import annotations

import pytest

from libs.ids import is_valid_id, new_id, timestamp_ms


def test_ids_sort_by_creation_time_across_milliseconds():
    # GIVEN ids made at increasing times WHEN sorted as strings THEN the order is the time order
    ids = [new_id(ms) for ms in (1, 2, 1_000, 1_700_000_000_000, 2**48 - 1)]
    assert sorted(ids) == ids


def test_ids_within_one_millisecond_stay_ordered_and_unique():
    # GIVEN many ids made in the same millisecond THEN each is new and they sort in creation order
    ids = [new_id(1_700_000_000_000) for _ in range(1_000)]
    assert len(set(ids)) == 1_000
    assert sorted(ids) == ids


def test_id_layout_and_timestamp_round_trip():
    # GIVEN an id made at a known time THEN it is 26 Crockford characters carrying that time
    value = new_id(1_795_748_400_123)
    assert len(value) == 26 and is_valid_id(value)
    assert timestamp_ms(value) == 1_795_748_400_123


@pytest.mark.parametrize(
    "value",
    [
        "",
        "01ARZ3NDEKTSV4RRFFQ69G5FA",
        "01ARZ3NDEKTSV4RRFFQ69G5FAVV",
        "01arz3ndektsv4rrffq69g5fav",
        "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",
        "01ARZ3NDEKTSV4RRFFQ69G5FAU",
        "../../etc/passwd/xxxxxxxxx",
    ],
)
def test_malformed_ids_are_rejected(value):
    # GIVEN a string that is not an id (wrong length, case, U, overflow, path) THEN it is not valid
    assert not is_valid_id(value)
    with pytest.raises(ValueError):
        timestamp_ms(value)


def test_timestamp_outside_48_bits_is_refused():
    with pytest.raises(ValueError, match="48 bits"):
        new_id(2**48)
