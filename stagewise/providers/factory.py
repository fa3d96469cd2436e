"""The one place that picks a provider for a target: local cloud → LocalProvider, AWS → AwsProvider."""

from __future__ import annotations

from collections.abc import Callable

from stagewise.providers.base import Provider
from stagewise.target import Target

TemplateUpload = Callable[[str, bytes], str]


def provider_for(target: Target, *, upload: TemplateUpload | None = None) -> Provider:
    """`upload` stores a template too large to send inline (the aws provider) and returns its URL."""
    if target.local:
        from stagewise.providers.local import LocalProvider

        return LocalProvider(target.client, account_id=target.account_id, region=target.region,
                             checkpoints=target.checkpoints)
    from stagewise.providers.aws import AwsProvider

    return AwsProvider(target.client("cloudformation"), upload=upload)
