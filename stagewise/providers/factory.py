"""The one place a provider is made for a target: CloudFormation's API, on AWS or on the local cloud."""

from __future__ import annotations

from collections.abc import Callable

from stagewise.providers.cloudformation import AWS, LOCAL, CloudFormationProvider
from stagewise.target import Target

TemplateUpload = Callable[[str, bytes], str]


def provider_for(target: Target, *, upload: TemplateUpload | None = None) -> CloudFormationProvider:
    """`upload` stores a template too large to send inline and returns its URL.

    The local cloud answers in milliseconds, so it is polled in milliseconds; AWS in seconds."""
    return CloudFormationProvider(target.client("cloudformation"), polling=LOCAL if target.local else AWS,
                                  upload=upload)
