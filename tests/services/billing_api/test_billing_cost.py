"""The storage plan's price tiers, at and around every boundary."""

from __future__ import annotations

import pytest
from billing_api.cost import cost_in_cents


@pytest.mark.parametrize(
    ("storage", "cents"),
    [
        (1, 400),  # first unit: rate 4
        (10, 4000),  # last unit at rate 4
        (11, 2200),  # first unit at rate 2
        (100, 20000),  # last unit at rate 2
        (101, 10100),  # first unit at rate 1
        (100_000, 10_000_000),  # the largest plan
    ],
)
def test_cost_follows_the_tiers(storage: int, cents: int) -> None:
    assert cost_in_cents(storage) == cents


@pytest.mark.parametrize("storage", [0, -1, 100_001, True, 10.0, "10"])
def test_cost_refuses_what_is_not_a_plan(storage: object) -> None:
    with pytest.raises(ValueError, match="storage must be an integer from 1 to 100000"):
        cost_in_cents(storage)  # type: ignore[arg-type]
