"""Fixtures: an in-process moto cloud and a Provisioner on it, with a client wrapper that counts calls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stagewise.provisioner import Provisioner, ResourceEvent

ACCOUNT = "123456789012"
REGION = "us-east-1"
READ_PREFIXES = ("Get", "List", "Describe", "Head")


class CallLog:
    """Records every AWS operation the provisioner makes, so tests can count write calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def writes(self) -> list[tuple[str, str]]:
        return [(s, op) for s, op in self.calls if not op.startswith(READ_PREFIXES)]


@pytest.fixture
def cloud() -> Iterator[boto3.Session]:
    with mock_aws():
        yield boto3.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def calls() -> CallLog:
    return CallLog()


@pytest.fixture
def events() -> list[ResourceEvent]:
    return []


@pytest.fixture
def prov(cloud: boto3.Session, calls: CallLog, events: list[ResourceEvent]) -> Provisioner:
    def client(service: str) -> Any:
        c = cloud.client(service)

        def record(model: Any, **_: Any) -> None:
            calls.calls.append((service, model.name))

        c.meta.events.register("before-call", lambda model, **kw: record(model))
        return c

    return Provisioner(client, account_id=ACCOUNT, region=REGION, on_event=events.append)
