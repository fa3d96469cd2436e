"""Secrets: stored as SecureString per stage, listed without values, inherited from dev, required by deploys."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from stagewise.config import StageConfig
from stagewise.errors import UserError
from stagewise.secrets import SecretStore


def stage(name: str, secrets_from: str | None = None) -> StageConfig:
    return StageConfig(
        name=name, account="dev", region="us-east-1", log_level="INFO", memory=256,
        timeout=10, alarms=False, protect=False, infra_from=None, secrets_from=secrets_from, domain=None,
        ephemeral=secrets_from is not None,
    )


@pytest.fixture
def store():
    with mock_aws():
        yield SecretStore(boto3.client("ssm", region_name="us-east-1"), "notes")


def test_set_stores_a_securestring_under_the_stage_path(store):
    parameter = store.set("dev", "STRIPE_SECRET_KEY", "sk_test_123")
    assert parameter == "/notes/dev/STRIPE_SECRET_KEY"
    described = store.ssm.get_parameter(Name=parameter, WithDecryption=False)["Parameter"]
    assert described["Type"] == "SecureString"
    assert store.ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"] == "sk_test_123"


def test_listing_gives_names_and_dates_never_values(store):
    store.set("dev", "STRIPE_SECRET_KEY", "sk_test_secret_value")
    listed = store.visible(stage("dev"))
    assert list(listed) == ["STRIPE_SECRET_KEY"]
    assert "sk_test_secret_value" not in repr(listed)
    assert listed["STRIPE_SECRET_KEY"].last_modified is not None


def test_ephemeral_stage_falls_back_to_dev_and_own_value_wins(store):
    store.set("dev", "STRIPE_SECRET_KEY", "dev-value")
    pr = stage("pr-1", secrets_from="dev")
    assert store.resolve(pr, ["STRIPE_SECRET_KEY"]) == {"STRIPE_SECRET_KEY": "/notes/dev/STRIPE_SECRET_KEY"}
    assert store.visible(pr)["STRIPE_SECRET_KEY"].inherited_from == "dev"
    store.set("pr-1", "STRIPE_SECRET_KEY", "own-value")
    assert store.resolve(pr, ["STRIPE_SECRET_KEY"]) == {"STRIPE_SECRET_KEY": "/notes/pr-1/STRIPE_SECRET_KEY"}


def test_stages_do_not_see_each_others_secrets(store):
    store.set("dev", "STRIPE_SECRET_KEY", "dev-value")
    assert store.visible(stage("prod")) == {}


def test_missing_secret_names_it_and_the_command_that_sets_it(store):
    with pytest.raises(UserError, match=r"lacks secret\(s\) STRIPE_SECRET_KEY.*stagewise secrets set STRIPE_SECRET_KEY --stage prod"):
        store.resolve(stage("prod"), ["STRIPE_SECRET_KEY"])


def test_remove_deletes_and_a_missing_one_is_a_clear_error(store):
    store.set("dev", "API_TOKEN", "x")
    store.remove("dev", "API_TOKEN")
    assert store.visible(stage("dev")) == {}
    with pytest.raises(UserError, match="has no secret API_TOKEN"):
        store.remove("dev", "API_TOKEN")


@pytest.mark.parametrize("name", ["lower", "1ABC", "WITH-DASH", ""])
def test_bad_names_are_refused(store, name):
    with pytest.raises(UserError, match="bad secret name"):
        store.set("dev", name, "x")


def test_empty_and_oversize_values_are_refused(store):
    with pytest.raises(UserError, match="empty"):
        store.set("dev", "A", "")
    with pytest.raises(UserError, match="over 4096 bytes"):
        store.set("dev", "A", "x" * 5000)
