"""Fixtures for the local cloud tests: a real server process on a free loopback port, always stopped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stagewise.cloud import LocalCloud, client
from stagewise.testing import running_cloud

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
REGION = "us-east-1"


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[LocalCloud]:
    with running_cloud(tmp_path / "cloud") as local:
        yield local


def make_client(cloud: LocalCloud, service: str, account_id: str = ACCOUNT_A) -> Any:
    return client(cloud.endpoint, account_id=account_id, region=REGION, service=service)
