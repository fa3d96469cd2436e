"""Deterministic zips: same entries, same bytes; fixed times and modes; names from contents."""

from __future__ import annotations

import zipfile
from pathlib import Path

from stagewise.build.zipping import Entry, content_digest, file_sha256, read_entries, write_zip

ENTRIES = [Entry("b/x.py", b"x = 1\n"), Entry("a.py", b"a = 2\n"), Entry("bin/tool", b"#!", executable=True)]


def test_same_entries_in_any_order_give_byte_identical_zips(tmp_path: Path) -> None:
    first = write_zip(ENTRIES, tmp_path / "one.zip")
    second = write_zip(list(reversed(ENTRIES)), tmp_path / "two.zip")

    assert first == second == file_sha256(tmp_path / "one.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()


def test_entries_are_sorted_with_fixed_time_and_mode_and_no_directories(tmp_path: Path) -> None:
    write_zip(ENTRIES, tmp_path / "out.zip")

    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == ["a.py", "b/x.py", "bin/tool"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert [oct(i.external_attr >> 16) for i in infos] == ["0o100644", "0o100644", "0o100755"]
    assert not any(i.is_dir() for i in infos)


def test_content_digest_ignores_order_but_sees_path_bytes_and_mode() -> None:
    base = content_digest(ENTRIES)

    assert content_digest(list(reversed(ENTRIES))) == base
    assert content_digest([*ENTRIES[:2], Entry("bin/tool", b"#!")]) != base
    assert content_digest([Entry("b/y.py", b"x = 1\n"), *ENTRIES[1:]]) != base
    assert content_digest([Entry("b/x.py", b"x = 3\n"), *ENTRIES[1:]]) != base


def test_read_entries_round_trips(tmp_path: Path) -> None:
    write_zip(ENTRIES, tmp_path / "out.zip")

    assert read_entries(tmp_path / "out.zip") == sorted(ENTRIES, key=lambda e: e.path)
