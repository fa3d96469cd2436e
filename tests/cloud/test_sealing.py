"""The local cloud's durable files never hold what was put into it in the clear: a SecureString
value is in no journal line, snapshot or other file of the state dir — and survives kill -9 and a
clean restart all the same. A journal or snapshot written before sealing existed still loads."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from stagewise.cloud import LocalCloud
from stagewise.cloud.journal import Journal, JournalEntry
from stagewise.cloud.sealing import Seal, SealError
from tests.cloud.conftest import make_client
from tests.cloud.test_durability import kill_and_restart


def files_of(state_dir: Path) -> bytes:
    return b"".join(path.read_bytes() for path in state_dir.rglob("*") if path.is_file())


def test_a_secret_is_in_no_state_file_and_survives_kill_9_and_restarts(cloud: LocalCloud) -> None:
    canary = "sk_live_canary_" + secrets.token_hex(8)
    ssm = make_client(cloud, "ssm")
    ssm.put_parameter(Name="/app/dev/STRIPE", Value=canary, Type="SecureString")
    assert canary.encode() not in files_of(cloud.state_dir)
    journal = (cloud.state_dir / "journal.jsonl").read_bytes().splitlines()
    assert journal and not any(line.startswith(b"{") for line in journal)  # sealed (bodies are base64 in a line)

    kill_and_restart(cloud)  # replayed from the sealed journal
    assert make_client(cloud, "ssm").get_parameter(Name="/app/dev/STRIPE", WithDecryption=True)[
        "Parameter"]["Value"] == canary
    cloud.stop()  # a clean stop writes the snapshot and empties the journal
    assert not (cloud.state_dir / "state.pickle").read_bytes().startswith(b"\x80")  # not a bare pickle
    assert canary.encode() not in files_of(cloud.state_dir)  # the snapshot is sealed too
    cloud.start()
    assert make_client(cloud, "ssm").get_parameter(Name="/app/dev/STRIPE", WithDecryption=True)[
        "Parameter"]["Value"] == canary


def entry(seq: int) -> JournalEntry:
    return JournalEntry(seq=seq, at=1.0, method="POST", path="/", raw_uri="/", query="", headers={},
                        body=b"secret body", preserved={})


def test_sealed_lines_open_only_with_their_key_and_plain_lines_still_read(tmp_path: Path) -> None:
    seal = Seal.of(tmp_path)
    sealed = entry(1).to_line(seal)
    assert b"secret body" not in sealed and b"c2VjcmV0IGJvZHk" not in sealed  # nor its base64
    assert JournalEntry.from_line(sealed, seal).body == b"secret body"
    with pytest.raises(SealError):
        JournalEntry.from_line(sealed, Seal.of(tmp_path / "another-cloud"))
    path = tmp_path / "journal.jsonl"
    path.write_bytes(entry(1).to_line() + entry(2).to_line(seal))  # a line from before sealing, then a sealed one
    assert [e.seq for e in Journal(path, seal).entries()] == [1, 2]
    assert (tmp_path / "state.key").stat().st_mode & 0o777 == 0o600
