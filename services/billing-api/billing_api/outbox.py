"""The scheduled outbox drainer: a Lambda handler that republishes purchases SNS refused earlier.

Data flow: a schedule (or an operator: `stagewise invoke`) calls `handler`; it calls
`purchases.drain_outbox` until the outbox is empty or the batch limit is reached, and returns
how many messages it moved. The billing function also drains after its own publishes.
"""

from __future__ import annotations

from typing import Any

from billing_api.purchases import drain_outbox
from billing_api.settings import BillingSettings
from libs import settings as env
from libs.observability import logger

MAX_BATCHES = 10


def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Drain up to `MAX_BATCHES` × 10 outbox messages into the topic."""
    settings = env.load(BillingSettings)
    total = 0
    for _ in range(MAX_BATCHES):
        moved = drain_outbox(settings)
        total += moved
        if moved == 0:
            break
    logger().info("outbox drained", extra={"published": total})
    return {"published": total}
