"""The billing function's environment, read once per container (see libs.settings).

Every value is a name or an address set by the stack (services/billing-api/stack.py); the
Stripe key itself is only ever in SSM, read by `payments` through `stripe_secret_parameter`.
"""

from __future__ import annotations

import dataclasses

from libs.settings import CommonSettings, env_field


@dataclasses.dataclass(frozen=True)
class BillingSettings(CommonSettings):
    """What `POST /billing` needs: the topic, the secret's parameter name, the tables and queues."""

    topic_arn: str = env_field("TOPIC_ARN")
    stripe_secret_parameter: str = env_field("STRIPE_SECRET_PARAMETER")
    idempotency_table: str = env_field("IDEMPOTENCY_TABLE")
    outbox_queue_url: str = env_field("OUTBOX_QUEUE_URL")
    stripe_api_base: str = env_field("STRIPE_API_BASE", default="")  # set for local stages only
