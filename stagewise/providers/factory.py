"""The one place that picks a provider for a target: local cloud → LocalProvider, AWS → AwsProvider."""

from __future__ import annotations

from stagewise.providers.base import Provider
from stagewise.target import Target


def provider_for(target: Target) -> Provider:
    if target.local:
        from stagewise.providers.local import LocalProvider

        return LocalProvider(target.client, account_id=target.account_id, region=target.region)
    from stagewise.providers.aws import AwsProvider

    return AwsProvider(target.client("cloudformation"))
