"""Live data through the service: batches in every body format, with the key, durable,
counted once, read by reports as one snapshot; the drop folder; retention; the CLI. A real
server where it is the point (sockets, kill -9, concurrent reports, its log, the hand-over),
else the same app in process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import build_db
from tests.server import ROOT, in_process, serving
from tests.test_service import AS_OF

POLLS_CSV = (
    b"store_id,status,timestamp_utc\n"
    b"live-1,active,2023-03-14 17:10:00\n"
    b"live-1,inactive,2023-03-14 18:10:00\n"
    b"live-2,bogus,2023-03-14 18:00:00\n"
)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    return build_db(tmp_path_factory.mktemp("live"), stores=100)


@pytest.fixture
def db(loaded, tmp_path):
    copy = tmp_path / "storemon.duckdb"
    shutil.copy(loaded, copy)
    return copy


def settled(inbox: Path, done, timeout: float = 30) -> None:
    """Wait until `done()` holds for the drop folder `inbox` (it is looked at every second)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, list(inbox.rglob("*"))
        time.sleep(0.1)


def post(server, kind: str, body: bytes, media: str = "text/csv", **headers) -> tuple[int, dict]:
    code, _, content = server.request(
        "POST",
        f"/{kind}",
        data=body,
        headers={"Content-Type": media, **server.authorized(), **headers},
        accept="application/json",
    )
    return code, json.loads(content)


def test_every_body_format_appends_and_says_what_it_kept(db):
    with in_process(db) as server:
        before = server.json("GET", "/health")[1]["data"]
        code, answer = post(server, "polls", POLLS_CSV)
        assert code == 201
        assert (answer["rows_read"], answer["kept"], answer["rejected"]) == (3, 2, 1)
        assert answer["rejected_by_reason"] == [
            {
                "reason": "unknown status",
                "rows": 1,
                "line": 4,
                "detail": 'status "bogus" is neither active nor inactive',
                "raw": "live-2,bogus,2023-03-14 18:00:00",
            }
        ]
        objects = [
            {"store_id": "live-3", "status": "active", "timestamp_utc": "2023-03-14 18:00:00"},
            {"store_id": "live-3", "status": "inactive", "timestamp_utc": "no time"},
        ]
        code, answer = post(server, "polls", json.dumps(objects).encode(), "application/json")
        assert (code, answer["kept"], answer["rejected"]) == (201, 1, 1)
        ndjson = "\n".join(json.dumps(o) for o in objects[:1]).replace("live-3", "live-4")
        code, answer = post(server, "polls", ndjson.encode(), "application/x-ndjson")
        assert (code, answer["kept"]) == (201, 1)
        code, answer = post(
            server,
            "hours",
            b"store_id,day_of_week,start_time_local,end_time_local\nlive-1,1,09:00,17:00\n",
        )
        assert (code, answer["kind"], answer["kept"]) == (201, "hours", 1)
        code, answer = post(
            server,
            "timezones",
            b'[{"store_id": "live-1", "timezone_str": "America/New_York"}]',
            "application/json",
        )
        assert (code, answer["kept"]) == (201, 1)
        after = server.json("GET", "/health")[1]["data"]
        assert after["polls"] == before["polls"] + 4
        assert after["last_batch_at"] > before["last_batch_at"]
        # A rejected JSON object is numbered by its place in the array.
        report_id = server.trigger(AS_OF)
        assert server.wait(report_id)[0] == 200
        meta = server.json("GET", f"/get_report/{report_id}")[1]
        assert meta["data_batch_at"] == after["last_batch_at"]
    with duckdb.connect(str(db), read_only=True) as con:
        lines = con.execute(
            "SELECT file, line, reason FROM rejected_rows WHERE batch_id IS NOT NULL "
            "AND file LIKE 'POST%' ORDER BY reason"
        ).fetchall()
        hours = con.execute(
            "SELECT day_of_week FROM business_hours JOIN stores USING (store_key) "
            "WHERE store_id = 'live-1'"
        ).fetchall()
    assert lines == [("POST /polls", 2, "bad timestamp"), ("POST /polls", 4, "unknown status")]
    assert hours == [(1,)]


def test_writes_need_the_key_and_nothing_is_read_without_it(db):
    with in_process(db) as server:
        before = server.json("GET", "/health")[1]["data"]["polls"]
        for headers in ({}, {"Authorization": "Bearer not-the-key-at-all-1234"}):
            code, _, content = server.request(
                "POST", "/polls", data=POLLS_CSV, headers={"Content-Type": "text/csv", **headers}
            )
            assert (code, json.loads(content)["error"]) == (401, "unauthorized")
        assert server.json("GET", "/health")[1]["data"]["polls"] == before
        code, _, content = server.request(
            "POST",
            "/polls",
            data=POLLS_CSV,
            headers={"Content-Type": "text/plain", **server.authorized()},
        )
        assert code == 415


def test_a_body_over_the_limit_gets_413_before_it_is_read(db):
    with serving(db, "--max-body", "1") as server:
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(
                b"POST /polls HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
                + f"Authorization: Bearer {server.token}\r\n".encode()
                + b"Content-Length: 2000000\r\n\r\n"
                + POLLS_CSV
            )
            answer = b""
            while not answer.endswith(b"}"):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 413")


def test_a_retried_batch_is_counted_once(db):
    with in_process(db) as server:
        first = post(server, "polls", POLLS_CSV)
        again = post(server, "polls", POLLS_CSV)
        assert (first[0], again[0]) == (201, 200)
        assert again[1]["repeated"] and again[1]["batch_id"] == first[1]["batch_id"]
        keyed = post(
            server, "polls", POLLS_CSV.replace(b"live-1", b"live-9"), **{"Idempotency-Key": "k-1"}
        )
        retry = post(
            server, "polls", POLLS_CSV.replace(b"live-1", b"live-9"), **{"Idempotency-Key": "k-1"}
        )
        assert (keyed[0], retry[0], retry[1]["batch_id"]) == (201, 200, keyed[1]["batch_id"])
        # The same key with other rows, or on another route: 422, and nothing appended.
        before = server.json("GET", "/health")[1]["data"]["polls"]
        for kind, body in (
            ("polls", POLLS_CSV.replace(b"live-1", b"live-8")),
            ("timezones", b"store_id,timezone_str\nlive-9,UTC\n"),
        ):
            code, answer = post(server, kind, body, **{"Idempotency-Key": "k-1"})
            assert (code, answer["error"]) == (422, "idempotency key reused"), answer
            assert keyed[1]["batch_id"] in answer["detail"]
        assert server.json("GET", "/health")[1]["data"]["polls"] == before
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM batches WHERE kind = 'append'").fetchone() == (2,)


def test_a_2xx_is_durable_even_when_the_service_is_killed_right_after(db):
    with serving(db) as server:
        code, answer = post(server, "polls", POLLS_CSV)
        assert code == 201
        server.kill()  # SIGKILL: no shutdown, no checkpoint
    with in_process(db) as server:  # what a new service finds in the file
        again = post(server, "polls", POLLS_CSV)
        assert again[0] == 200 and again[1]["batch_id"] == answer["batch_id"]  # it is there


def test_a_report_reads_one_snapshot_while_batches_arrive(db, tmp_path):
    """Each report equals the report of the data before or after some batch, never a mix."""
    batches = [
        b"store_id,status,timestamp_utc\n"
        + "".join(
            f"snap-{n},{'inactive' if n % 2 else 'active'},2023-03-14 18:{m:02d}:00\n"
            for n in range(200)
            for m in (0, 20)
        )
        .encode()
        .replace(b"snap-", f"b{k}-".encode())
        for k in range(4)
    ]
    shutil.copy(db, tmp_path / "again.duckdb")
    with in_process(db) as server:  # the reports of each state, one after another
        expected = [server.wait(server.trigger(AS_OF))[2]]
        for body in batches:
            assert post(server, "polls", body)[0] == 201
            expected.append(server.wait(server.trigger(AS_OF))[2])
    # The same batches again, on a fresh copy, with reports triggered while they arrive.
    with serving(tmp_path / "again.duckdb") as server:
        ids: list[str] = []
        stop = threading.Event()

        def trigger_often() -> None:
            while not stop.is_set():
                ids.append(server.trigger(AS_OF))
                time.sleep(0.01)

        worker = threading.Thread(target=trigger_often)
        worker.start()
        for body in batches:
            assert post(server, "polls", body)[0] == 201
        stop.set()
        worker.join()
        seen = {server.wait(report_id)[2] for report_id in ids}
    assert seen and seen <= set(expected)


def test_the_drop_folder_appends_files_and_sets_aside_what_it_cannot(db, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with in_process(db, "--inbox", str(inbox), "--inbox-settle", "0.2") as server:
        before = server.json("GET", "/health")[1]["data"]["polls"]
        (inbox / ".002-polls.csv.tmp").write_bytes(POLLS_CSV)  # still being written
        (inbox / "001-zones.csv").write_text("store_id,timezone_str\nlive-1,America/Denver\n")
        (inbox / "003-notes.txt").write_text("these are not polls\n")
        time.sleep(0.3)
        (inbox / ".002-polls.csv.tmp").rename(inbox / "002-polls.csv")  # renamed in: whole
        settled(
            inbox,
            lambda: (
                len(list((inbox / "done").glob("*"))) >= 2 and any((inbox / "failed").glob("*"))
            ),
        )
        assert sorted(p.name for p in (inbox / "done").iterdir()) == [
            "001-zones.csv",
            "002-polls.csv",
        ]
        assert sorted(p.name for p in (inbox / "failed").iterdir()) == [
            "003-notes.txt",
            "003-notes.txt.error",
        ]
        assert (
            "its columns are those of no input"
            in (inbox / "failed" / "003-notes.txt.error").read_text()
        )
        assert not [p for p in inbox.iterdir() if p.is_file()]
        assert server.json("GET", "/health")[1]["data"]["polls"] == before + 2


def test_a_batch_with_rows_none_of_them_usable_is_refused_by_the_api_and_the_drop_folder(
    db, tmp_path
):
    dummy = b"store_id,status,timestamp_utc\nlive-9,actve,2023-03-14 18:00:00\n"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with in_process(db, "--inbox", str(inbox), "--inbox-settle", "0.2") as server:
        before = server.json("GET", "/health")[1]["data"]["polls"]
        code, answer = post(server, "polls", dummy)
        assert (code, answer["error"]) == (400, "batch refused")
        assert answer["detail"] == (
            "polls (store_status.csv): POST /polls has 1 row and none of them is usable: 1 x "
            "unknown status (e.g. line 2); nothing was appended. Fix the file, or pass "
            "--allow-empty (API: allow_empty) to use it anyway"
        )
        (inbox / "001-polls.csv").write_bytes(dummy)
        settled(inbox, lambda: any((inbox / "failed").glob("*.error")))
        error = (inbox / "failed" / "001-polls.csv.error").read_text()
        assert "none of them is usable: 1 x unknown status (e.g. line 2)" in error
        assert "actve" not in error  # the drop folder never quotes a file
        assert server.json("GET", "/health")[1]["data"]["polls"] == before
        code, answer = post(server, "polls?allow_empty=true", dummy)
        assert (code, answer["kept"], answer["rejected"]) == (201, 0, 1)
        assert answer["rejected_by_reason"][0]["detail"] == (
            'status "actve" is neither active nor inactive'
        )


def test_the_drop_folder_never_follows_a_link_nor_quotes_a_file(db, tmp_path):
    # An attacker who can write the inbox but not read elsewhere: links to a private CSV of
    # polls outside, to the service's own key file, and to nothing; and a UTF-16 file whose
    # text is broken. None is read, each is set aside as it is, and no .error, log line or page
    # quotes what they hold.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = tmp_path / "private.csv"
    secret.write_bytes(b"store_id,status,timestamp_utc\nsecret-1,bogus,2023-03-14 18:00:00\n")
    secret.chmod(0o600)
    with in_process(db, "--inbox", str(inbox), "--inbox-settle", "0.2") as server:
        before = server.json("GET", "/health")[1]["data"]["polls"]
        (inbox / "001-polls.csv").symlink_to(secret)
        (inbox / "002-key.csv").symlink_to(Path(f"{server.db}.token"))
        (inbox / "003-gone.csv").symlink_to(tmp_path / "nothing-here.csv")
        (inbox / "004-utf16.csv").write_bytes(
            b"\xff\xfe" + "store_id,status".encode("utf-16-le") + b"\x00\xd8"
        )
        settled(inbox, lambda: len(list((inbox / "failed").glob("*.error"))) >= 4)
        failed = inbox / "failed"
        for name in ("001-polls.csv", "002-key.csv", "003-gone.csv"):
            assert (failed / name).is_symlink(), name  # moved as the link it is
            assert "a symbolic link" in (failed / f"{name}.error").read_text()
        said = (failed / "004-utf16.csv.error").read_text()
        assert "nothing was appended" in said and "\\x" not in said and "store_id" not in said
        errors = " ".join(p.read_text() for p in failed.glob("*.error"))
        assert "secret-1" not in errors and "bogus" not in errors
        assert server.json("GET", "/health")[1]["data"]["polls"] == before
        page = server.request("GET", "/ui/data-quality", accept="text/html")[2].decode()
        assert "secret-1" not in page and "private.csv" not in page
    logged = server.log.read_text()
    assert "001-polls.csv" in logged and "004-utf16.csv" in logged  # each is said ...
    assert "secret-1" not in logged and "bogus" not in logged and server.token not in logged


def test_a_file_the_drop_folder_cannot_move_is_said_once_and_the_others_go_on(db, tmp_path):
    # An unlucky operator: failed/ replaced by a plain file, and a name so long that NAME.error
    # would be longer than a name may be. The file that cannot be moved stays, said once (log,
    # /health, the data-quality page); the files after it are appended.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with serving(db, "--inbox", str(inbox), "--inbox-settle", "0.2") as server:
        before = server.json("GET", "/health")[1]["data"]["polls"]
        long_name = "0" + "x" * 250 + ".txt"  # 255 bytes
        (inbox / long_name).write_text("not polls\n")
        settled(inbox, lambda: (inbox / "failed" / long_name).exists())
        errors = list((inbox / "failed").glob("*.error"))
        assert len(errors) == 1 and "its columns are those of no input" in errors[0].read_text()
        shutil.rmtree(inbox / "failed")
        (inbox / "failed").write_text("a file where a folder was\n")
        (inbox / "001-notes.txt").write_text("these are not polls\n")
        (inbox / "002-polls.csv").write_bytes(POLLS_CSV)
        settled(inbox, lambda: (inbox / "done" / "002-polls.csv").exists())
        assert (inbox / "001-notes.txt").exists()  # still there, skipped
        assert server.json("GET", "/health")[1]["data"]["polls"] == before + 2
        time.sleep(2.5)  # the folder is looked at every second: said once all the same
        inbox_health = server.json("GET", "/health")[1]["inbox"]
        assert inbox_health["folder"] == str(inbox)
        # (the plain file named failed is an entry of the folder like any other)
        stuck, beside = inbox_health["stuck"]
        assert (stuck["name"], beside["name"]) == ("001-notes.txt", "failed")
        assert "its columns are those of no input" in stuck["why"]
        assert "cannot be moved to failed/" in stuck["why"]
        page = server.request("GET", "/ui/data-quality", accept="text/html")[2].decode()
        assert "files it cannot move" in page and "001-notes.txt" in page
        (inbox / "001-notes.txt").unlink()  # taken away: nothing to say any more
        time.sleep(1.5)
        assert [f["name"] for f in server.json("GET", "/health")[1]["inbox"]["stuck"]] == ["failed"]
    logged = server.log.read_text()
    assert logged.count("001-notes.txt stays in") == 1
    assert "Traceback" not in logged


def test_the_drop_folder_waits_for_a_file_still_being_written(db, tmp_path):
    # A poller that writes its file under the final name, slowly: 13 rows and half a line,
    # a pause three times the settle time, then the rest in pieces. Nothing is taken till the
    # file is whole; then all 60 rows, as one batch.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [f"slow-{n},active,2023-03-14 17:{n:02d}:00\n".encode() for n in range(60)]
    with in_process(db, "--inbox", str(inbox), "--inbox-settle", "0.3") as server:
        before = server.json("GET", "/health")[1]["data"]["polls"]
        with (inbox / "001-polls.csv").open("wb", buffering=0) as out:
            out.write(b"store_id,status,timestamp_utc\n" + b"".join(rows[:13]) + rows[13][:9])
            time.sleep(1.0)
            waiting = server.json("GET", "/health")[1]["inbox"]["waiting"]
            assert [w["name"] for w in waiting] == ["001-polls.csv"]
            assert "does not end as a whole file does" in waiting[0]["why"]
            out.write(rows[13][9:])
            for row in rows[14:]:
                out.write(row)
                time.sleep(0.02)
        settled(inbox, lambda: (inbox / "done" / "001-polls.csv").exists())
        assert server.json("GET", "/health")[1]["data"]["polls"] == before + 60
        assert server.json("GET", "/health")[1]["inbox"]["waiting"] == []
        # A file that never gets its last line break is taken as it is after ten times the
        # settle time: a writer that forgets it loses nothing.
        (inbox / "002-zones.csv").write_bytes(b"store_id,timezone_str\nslow-1,Asia/Tokyo")
        settled(inbox, lambda: (inbox / "done" / "002-zones.csv").exists())
    with duckdb.connect(str(db), read_only=True) as con:
        taken = con.execute(
            "SELECT data_rows, kept_rows FROM batches WHERE file LIKE '%001-polls.csv'"
        ).fetchall()
        zone = con.execute(
            "SELECT timezone FROM store_timezones JOIN stores USING (store_key) "
            "WHERE store_id = 'slow-1'"
        )
        assert (taken, zone.fetchall()) == ([(60, 60)], [("Asia/Tokyo",)])


def test_the_drop_folder_says_once_what_it_does_not_take(db, tmp_path):
    # Folders, FIFOs, sockets, temporary names: none is read, none passed over silently.
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with serving(db, "--inbox", str(inbox), "--inbox-settle", "0.2") as server:
        (inbox / ".001-polls.csv").write_bytes(POLLS_CSV)
        (inbox / "002-polls.csv.part").write_bytes(POLLS_CSV)
        (inbox / "003-folder").mkdir()
        os.mkfifo(inbox / "004-fifo.csv")
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(inbox / "005-socket.csv"))
        settled(inbox, lambda: len(list((inbox / "failed").glob("*.error"))) >= 2)
        time.sleep(1.0)  # several looks: each still said once
        failed = inbox / "failed"
        assert "a FIFO (named pipe)" in (failed / "004-fifo.csv.error").read_text()
        assert "a socket" in (failed / "005-socket.csv.error").read_text()
        assert stat.S_ISFIFO((failed / "004-fifo.csv").lstat().st_mode)
        health = server.json("GET", "/health")[1]["inbox"]
        assert [(w["name"], w["why"][:16]) for w in health["waiting"]] == [
            (".001-polls.csv", "a temporary name"),
            ("002-polls.csv.part", "a temporary name"),
        ]
        assert [(i["name"], i["why"][:8]) for i in health["ignored"]] == [
            ("003-folder", "a folder")
        ]
        page = server.request("GET", "/ui/data-quality", accept="text/html")[2].decode()
        assert "not taken yet" in page and "003-folder" in page and ".001-polls.csv" in page
        (inbox / ".001-polls.csv").rename(inbox / "001-polls.csv")
        settled(inbox, lambda: (inbox / "done" / "001-polls.csv").exists())
        names = [w["name"] for w in server.json("GET", "/health")[1]["inbox"]["waiting"]]
        assert names == ["002-polls.csv.part"]
        listener.close()
    logged = server.log.read_text()
    assert logged.count(".001-polls.csv waits") == 1
    assert logged.count("003-folder is left alone") == 1
    assert logged.count("004-fifo.csv failed") == 1
    assert "Traceback" not in logged


def test_retention_keeps_the_service_the_size_of_its_window(db):
    with in_process(db, "--keep-days", "8") as server:
        health = server.json("GET", "/health")[1]
        assert health["limits"]["keep_days"] == 8
        code, _ = post(
            server, "polls", b"store_id,status,timestamp_utc\nlater,active,2023-03-25 12:00:00\n"
        )
        assert code == 201
        data = server.json("GET", "/health")[1]["data"]
        # Everything loaded (up to 2023-03-15) is older than 2023-03-25 12:00 - 8 days: of it,
        # each of the 100 stores keeps its latest poll (and, when that is an inactive evidence
        # poll, its outage's earlier ones), which a report as of the latest poll still reads.
        assert (data["polls"], data["stores"]) == (
            180,
            101,
        )  # the new poll, and 179 kept of the 100 stores
        assert data["first_poll"] < "2023-03-16"


def test_the_batch_log_stays_the_size_its_retention_says(db):
    # Many tiny appends, each with a key and a rejected row: the log remembers the newest
    # --keep-batches (and a tenth more before it forgets), /health says the limits and the
    # counts, and a forgotten key is a new batch.
    with in_process(db, "--keep-batches", "20", "--keep-batch-days", "30") as server:
        health = server.json("GET", "/health")[1]
        assert (health["limits"]["keep_batches"], health["limits"]["keep_batch_days"]) == (20, 30)
        loaded_rejected = health["data"]["rejected_rows"]
        for n in range(45):
            body = (
                "store_id,status,timestamp_utc\n"
                f"tiny-{n},active,2023-03-14 18:{n:02d}:00\ntiny-{n},bogus,2023-03-14 18:00:00\n"
            ).encode()
            code, answer = post(server, "polls", body, **{"Idempotency-Key": f"tiny-{n}"})
            assert code == 201 and not answer["repeated"]
        data = server.json("GET", "/health")[1]["data"]
        assert 20 <= data["batches_remembered"] <= 22
        assert data["rejected_rows"] == loaded_rejected + data["batches_remembered"]
        body = b"store_id,status,timestamp_utc\ntiny-44,active,2023-03-14 18:44:00\n"
        body += b"tiny-44,bogus,2023-03-14 18:00:00\n"
        assert post(server, "polls", body, **{"Idempotency-Key": "tiny-44"})[1]["repeated"]
        body = b"store_id,status,timestamp_utc\ntiny-0,active,2023-03-14 18:00:00\n"
        body += b"tiny-0,bogus,2023-03-14 18:00:00\n"
        code, answer = post(server, "polls", body, **{"Idempotency-Key": "tiny-0"})
        assert (code, answer["repeated"], answer["kept"], answer["duplicates"]) == (
            201,
            False,
            0,
            1,
        )
        page = server.request("GET", "/ui/data-quality", accept="text/html")
        assert page[0] == 200


def test_storemon_append_takes_csv_and_parquet_and_hands_over_to_the_service(db, tmp_path):
    csv_file = tmp_path / "polls.csv"
    csv_file.write_bytes(POLLS_CSV)
    parquet_file = tmp_path / "zones.parquet"
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT 'live-1' AS store_id, 'Asia/Kolkata' AS timezone_str) "
            f"TO '{parquet_file}'"
        )
    command = [sys.executable, "-m", "storemon", "append", "--db", str(db)]
    done = subprocess.run(
        [*command, "--polls", str(csv_file), "--timezones", str(parquet_file)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 rows kept" in done.stdout and "unknown status" in done.stdout
    with serving(db):
        done = subprocess.run(
            [*command, "--polls", str(csv_file)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "handing the batches to it" in done.stdout and "nothing changed" in done.stdout
    with duckdb.connect(str(db), read_only=True) as con:
        zone = con.execute(
            "SELECT timezone FROM store_timezones JOIN stores USING (store_key) "
            "WHERE store_id = 'live-1'"
        ).fetchall()
    assert zone == [("Asia/Kolkata",)]
