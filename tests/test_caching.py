"""A finished report's files are cached by clients for good (storemon/api/caching.py): a strong
ETag, `immutable`, `304` on If-None-Match, a tag of its own for each key's groups, and the whole
CSV gzip-encoded, compressed once, for a client that takes it."""

from __future__ import annotations

import gzip

from storemon import report_files
from storemon.report_files import SUFFIXES, ReportFiles
from tests.conftest import two_owners
from tests.server import in_process
from tests.test_store_week import finished_report


def test_a_finished_reports_files_are_immutable_and_revalidate_with_304(tmp_path):
    db, owner = two_owners(tmp_path / "ws")
    with in_process(db) as service:
        client = service.client
        report_id = finished_report(client)
        for path in (f"/reports/{report_id}.csv", f"/reports/{report_id}.parquet",
                     f"/reports/{report_id}/outages.csv", f"/get_report/{report_id}"):  # fmt: skip
            first = client.get(path)
            assert first.status_code == 200, path
            tag = first.headers["etag"]
            assert tag.startswith('"') and tag.endswith('"')
            assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
            again = client.get(path, headers={"If-None-Match": tag})
            assert (again.status_code, again.content) == (304, b""), path
            assert again.headers["etag"] == tag
            other = client.get(path, headers={"If-None-Match": '"something else"'})
            assert other.status_code == 200 and other.content == first.content
        tags = {client.get(p).headers["etag"] for p in (
            f"/reports/{report_id}.csv", f"/reports/{report_id}.parquet",
            f"/reports/{report_id}/outages.csv", f"/reports/{report_id}/summary.csv")}  # fmt: skip
        assert len(tags) == 4  # a tag for each file
        # An owner's answer has its own tag, is private, and revalidates as well.
        mine = {"Authorization": f"Bearer {owner}"}
        everyone = client.get(f"/reports/{report_id}.csv")
        theirs = client.get(f"/reports/{report_id}.csv", headers=mine)
        assert theirs.status_code == 200
        assert {line.split(",")[0] for line in theirs.text.splitlines()[1:]} == {"a1", "a2"}
        assert theirs.headers["etag"] != everyone.headers["etag"]
        assert theirs.headers["cache-control"].startswith("private,")
        assert "Authorization" in theirs.headers["vary"]
        again = client.get(
            f"/reports/{report_id}.csv", headers={**mine, "If-None-Match": theirs.headers["etag"]}
        )
        assert again.status_code == 304


def test_the_csv_is_gzip_encoded_once_for_a_client_that_takes_it(tmp_path):
    db, _ = two_owners(tmp_path / "ws")
    with in_process(db) as service:
        client = service.client
        report_id = finished_report(client)
        plain = client.get(f"/reports/{report_id}.csv", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers
        packed = client.get(f"/reports/{report_id}.csv", headers={"Accept-Encoding": "br, gzip"})
        assert packed.headers["content-encoding"] == "gzip"
        assert packed.content == plain.content  # (the test client decodes it)
        assert "Accept-Encoding" in packed.headers["vary"]
        on_disk = db.parent / "reports" / f"{report_id}.csv.gz"
        assert gzip.decompress(on_disk.read_bytes()) == plain.content
        made = on_disk.stat().st_mtime_ns
        client.get(f"/reports/{report_id}.csv", headers={"Accept-Encoding": "gzip"})
        assert on_disk.stat().st_mtime_ns == made  # compressed once
        refused = client.get(f"/reports/{report_id}.csv", headers={"Accept-Encoding": "gzip;q=0"})
        assert "content-encoding" not in refused.headers
        parquet = client.get(f"/reports/{report_id}.parquet", headers={"Accept-Encoding": "gzip"})
        assert "content-encoding" not in parquet.headers  # Parquet is compressed already


def test_a_removed_reports_compressed_copy_goes_with_it(tmp_path):
    files = ReportFiles(tmp_path / "reports")
    for suffix in SUFFIXES:
        files.file("r1", suffix).write_text("store_id\n")
    packed = files.gzipped(files.file("r1", ".csv"))
    assert packed.is_file()
    files.remove(["r1"])
    assert list((tmp_path / "reports").iterdir()) == []


def test_the_files_read_last_are_held_in_memory_within_their_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(report_files, "HELD_BYTES", 300)
    monkeypatch.setattr(report_files, "HELD_FILE_BYTES", 150)
    files = ReportFiles(tmp_path)
    for name, size in (("a", 100), ("b", 100), ("c", 100), ("big", 151)):
        files.file(name, ".csv").write_bytes(name.encode()[:1] * size)
    a = files.file("a", ".csv")
    assert files.content(a) == b"a" * 100
    a.write_bytes(b"changed")  # (a finished report's file never changes: held, not read again)
    assert files.content(a) == b"a" * 100
    assert files.content(files.file("big", ".csv")) is None  # too large: the caller streams it
    for name in ("b", "c", "a"):
        files.content(files.file(name, ".csv"))
    files.content(files.file("b", ".csv"))
    assert files._held_bytes == 300  # the bound: a, b and c
    files.file("d", ".csv").write_bytes(b"d" * 100)
    files.content(files.file("d", ".csv"))  # the one read least recently (c) goes
    assert sorted(path.name for path in files._held) == ["a.csv", "b.csv", "d.csv"]
    files.remove(["a"])  # a removed report's go at once
    assert sorted(path.name for path in files._held) == ["b.csv", "d.csv"]
    assert files._held_bytes == 200
