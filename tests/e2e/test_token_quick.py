"""`stagewise token` for a user signed in before: one unsigned InitiateAuth and no SDK;
a stale record (a pool or client recreated since) falls back to the full path and is repaired."""

from __future__ import annotations

import json
import os
import re

import jwt

from stagewise.auth_local import SignInRecord, quick_id_token
from stagewise.cloud import LocalCloud, default_state_dir
from stagewise.cloud.layout import SIGN_IN_FILE
from tests.e2e.conftest import stagewise_cli

EMAIL = "carol@example.com"


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _journal_entries() -> int:
    status = stagewise_cli("cloud", "status").stdout
    return int(re.search(r"journal (\d+) entries", status).group(1))


def test_first_token_records_the_pool_and_no_password(dev):
    token = stagewise_cli("token", EMAIL).stdout.strip()
    assert _claims(token)["email"] == EMAIL and _claims(token)["token_use"] == "id"
    path = default_state_dir() / SIGN_IN_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    record = json.loads(path.read_text())
    assert len(record["pools"]) == 1
    assert set(record) == {"secret", "pools"}  # ids and the secret only: no user, no password


def test_known_user_takes_one_call(dev):
    stagewise_cli("token", EMAIL)
    before = _journal_entries()
    token = stagewise_cli("token", EMAIL).stdout.strip()
    assert _claims(token)["email"] == EMAIL
    # one journaled call: InitiateAuth (the pool keeps the tokens it issues); the full path's
    # AdminCreateUser + AdminSetUserPassword + AdminInitiateAuth would be three
    assert _journal_entries() == before + 1


def test_quick_path_signs_in_only_with_the_derived_password(dev):
    stagewise_cli("token", EMAIL)
    record = SignInRecord(default_state_dir() / SIGN_IN_FILE)
    (pool_id, client_id), = [record.pool(*key.split("/")) for key in json.loads(record.path.read_text())["pools"]]
    endpoint = LocalCloud(default_state_dir()).endpoint
    token = quick_id_token(endpoint, client_id=client_id, email=EMAIL, password=record.password(pool_id, EMAIL))
    assert token is not None and _claims(token)["email"] == EMAIL
    assert quick_id_token(endpoint, client_id=client_id, email=EMAIL, password="Aa1!wrong-password") is None
    assert quick_id_token(endpoint, client_id="no-such-client", email=EMAIL, password="x") is None


def test_stale_record_falls_back_and_is_repaired(dev):
    stagewise_cli("token", EMAIL)
    path = default_state_dir() / SIGN_IN_FILE
    record = json.loads(path.read_text())
    key = next(iter(record["pools"]))
    real_client = record["pools"][key]["client"]
    record["pools"][key]["client"] = "client-of-a-pool-since-deleted"
    path.write_text(json.dumps(record))
    os.chmod(path, 0o600)
    token = stagewise_cli("token", EMAIL).stdout.strip()
    assert _claims(token)["email"] == EMAIL
    assert json.loads(path.read_text())["pools"][key]["client"] == real_client
