"""The one shipping path against a real AWS account: what only real AWS can show (real resource
timing, CloudFormation's real statuses and limits, IAM evaluation, throttling under adaptive
retries).

Not part of `make test` (it needs an account and costs a few cents): `make test-aws` runs it with
STAGEWISE_AWS_ACCOUNT_ID set and credentials for that account in the environment (any of the
default chain: keys, AWS_PROFILE, OIDC). The same scenario runs in `make test` against the local
cloud's CloudFormation API (tests/pipeline/test_aws_path.py).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.pipeline.real_account import fixture_project, ship_noop_diff_remove

pytestmark = pytest.mark.aws


def test_deploy_noop_diff_and_remove_in_a_real_account(tmp_path: Path) -> None:
    account = os.environ.get("STAGEWISE_AWS_ACCOUNT_ID", "")
    if not re.fullmatch(r"\d{12}", account):
        raise RuntimeError("set STAGEWISE_AWS_ACCOUNT_ID to the 12-digit id of the account to test in")
    ship_noop_diff_remove(fixture_project(tmp_path, account), tmp_path / "build")
