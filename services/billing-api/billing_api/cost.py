"""The price of a storage plan, in cents: rate × storage × 100, the rate falling with the size.

Pure: no I/O, so the tiers are tested alone (10 → 4000, 100 → 20000, 101 → 10100).
"""

from __future__ import annotations

MIN_STORAGE = 1
MAX_STORAGE = 100_000

# (largest storage in the tier, dollars per unit) — the first tier that fits applies.
TIERS: tuple[tuple[int, int], ...] = ((10, 4), (100, 2), (MAX_STORAGE, 1))


def cost_in_cents(storage: int) -> int:
    """Cents to charge for `storage` units (1..100000); ValueError outside that range."""
    if isinstance(storage, bool) or not isinstance(storage, int) or not MIN_STORAGE <= storage <= MAX_STORAGE:
        raise ValueError(f"storage must be an integer from {MIN_STORAGE} to {MAX_STORAGE}, got {storage!r}")
    rate = next(rate for ceiling, rate in TIERS if storage <= ceiling)
    return rate * storage * 100
