"""The journal file: entries round-trip, and a torn last line (a crash mid-write) is dropped."""

from __future__ import annotations

from pathlib import Path

from stagewise.cloud.journal import Journal, JournalEntry, count_entries


def entry(seq: int, body: bytes = b"{}") -> JournalEntry:
    return JournalEntry(
        seq=seq, at=1000.0 + seq, method="POST", path="/", raw_uri="/", query="",
        headers={"HTTP_HOST": "127.0.0.1:1", "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"},
        body=body, preserved={"HTTP_X_AMZ_META_MY_KEY": "x-amz-meta-my_key"},
    )


def test_entries_round_trip_with_binary_bodies(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.open()
    journal.append(entry(1, b"\x00\xffbinary"))
    journal.append(entry(2))
    journal.close()
    read = list(Journal(tmp_path / "journal.jsonl").entries())
    assert read == [entry(1, b"\x00\xffbinary"), entry(2)]


def test_torn_tail_is_dropped_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(entry(1).to_line() + entry(2).to_line()[:25])
    journal = Journal(path)
    assert [e.seq for e in journal.entries()] == [1]
    assert path.read_bytes() == entry(1).to_line()
    assert journal.last_seq == 1 and count_entries(path) == 1
