"""The billing function's environment, read once per container (see libs.settings).

Every value is a name or an address set by the stack (services/billing-api/stack.py); the
Stripe key itself is only ever in SSM, read by `payments` through `stripe_secret_parameter`.
"""

from __future__ import annotations

import dataclasses

from libs.settings import CommonSettings, env_field


@dataclasses.dataclass(frozen=True, kw_only=True)
class BillingSettings(CommonSettings):
    """What `POST /billing` needs: the topic, the secret's parameter name, the tables and queues."""

    topic_arn: str = env_field("TOPIC_ARN")
    stripe_secret_parameter: str = env_field("STRIPE_SECRET_PARAMETER")
    idempotency_table: str = env_field("IDEMPOTENCY_TABLE")
    outbox_queue_url: str = env_field("OUTBOX_QUEUE_URL")
    stripe_api_base: str = env_field("STRIPE_API_BASE", default="")  # set for local stages only
    # A stage with `secrets_from` (short-lived stages: dev) reads this one while it has no key of its own.
    stripe_secret_fallback_parameter: str = env_field("STRIPE_SECRET_FALLBACK_PARAMETER", default="")
