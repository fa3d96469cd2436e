"""`stagewise dev`'s preparation: a stand-in's test value for a secret the stage lacks, the missing-secret stop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stagewise.config import Project, StageConfig, load_project
from stagewise.devsession import declared_secrets, prepare_secrets
from stagewise.errors import UserError

MANIFEST = """
[app]
name = "shop"
region = "us-east-1"
runtime = "python3.12"

[services]
pay = "services/pay"

[accounts.dev]
profile = "shop-dev"
id = "111111111111"

[defaults]
account = "dev"

[stages.local]

[local.standins.stripe]
module = "fakes.stripe"
secret = "STRIPE_SECRET_KEY"
secret_value = "sk_test_local_shop"
url_variable = "STRIPE_API_BASE"
"""

STACK = """
from troposphere import Template

SECRETS = {secrets!r}


def build(ctx):
    return Template()
"""


@dataclass
class FakeLocalStage:
    """What prepare_secrets reads of a LocalStage: the project, the stage and the cloud's clients."""

    project: Project
    stage: StageConfig
    ssm: Any

    def client(self, service: str) -> Any:
        if service != "ssm":
            raise AssertionError(f"prepare_secrets should only need SSM, asked for {service}")
        return self.ssm


def project_declaring(tmp_path: Path, secrets: tuple[str, ...]) -> Project:
    (tmp_path / "stagewise.toml").write_text(MANIFEST)
    service = tmp_path / "services" / "pay"
    service.mkdir(parents=True)
    (service / "stack.py").write_text(STACK.format(secrets=secrets))
    (tmp_path / "fakes").mkdir()
    (tmp_path / "fakes" / "stripe.py").write_text("")  # never run here: the declaration needs it to exist
    return load_project(tmp_path / "stagewise.toml")


@pytest.fixture
def ssm() -> Any:
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def test_a_local_stage_gets_the_stand_ins_test_value_when_it_has_none(tmp_path: Path, ssm: Any) -> None:
    project = project_declaring(tmp_path, ("STRIPE_SECRET_KEY",))
    stage = project.stage("local")
    assert declared_secrets(project, stage) == ["STRIPE_SECRET_KEY"]
    prepare_secrets(FakeLocalStage(project, stage, ssm), declared_secrets(project, stage))
    parameter = ssm.get_parameter(Name="/shop/local/STRIPE_SECRET_KEY", WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert parameter["Value"] == "sk_test_local_shop"  # [local.standins.stripe] secret_value


def test_an_existing_key_is_kept(tmp_path: Path, ssm: Any) -> None:
    project = project_declaring(tmp_path, ("STRIPE_SECRET_KEY",))
    ssm.put_parameter(Name="/shop/local/STRIPE_SECRET_KEY", Value="sk_test_mine", Type="SecureString")
    prepare_secrets(
        FakeLocalStage(project, project.stage("local"), ssm),
        declared_secrets(project, project.stage("local")),
    )
    value = ssm.get_parameter(Name="/shop/local/STRIPE_SECRET_KEY", WithDecryption=True)["Parameter"]["Value"]
    assert value == "sk_test_mine"


def test_a_missing_declared_secret_stops_naming_it_and_the_command(tmp_path: Path, ssm: Any) -> None:
    project = project_declaring(tmp_path, ("STRIPE_SECRET_KEY", "MAPS_API_KEY"))
    with pytest.raises(UserError, match="MAPS_API_KEY") as raised:
        prepare_secrets(
            FakeLocalStage(project, project.stage("local"), ssm),
            declared_secrets(project, project.stage("local")),
        )
    assert "stagewise secrets set MAPS_API_KEY --stage local" in str(raised.value)
    assert "nothing was deployed" in str(raised.value)

