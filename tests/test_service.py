"""The report service: against a real uvicorn server on 127.0.0.1 where the server is the point
(the README's flow, concurrency, a kill -9, the CLI handing work over), else in process."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from storemon import data_writer
from storemon.api import read_threads
from storemon.backends import backend_for
from storemon.generate import generate
from storemon.service import ReportService
from storemon.snapshots import write_inputs
from tests.server import ROOT, in_process, ingest_command, serving

AS_OF = "2023-03-14 18:30:00"


def cli_report(db: Path, out: Path, as_of: str | None = None) -> bytes:
    args = ["--as-of", as_of] if as_of else []
    done = subprocess.run(
        [sys.executable, "-m", "storemon", "report", "--db", str(db), "--out", str(out), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def test_trigger_poll_and_fetch_equals_the_cli_report(db, tmp_path):
    expected = cli_report(db, tmp_path / "expected.csv", AS_OF)
    with serving(db) as server:
        code, answer = server.json("POST", "/trigger_report", {"as_of": AS_OF})
        assert code == 202 and answer["status"] == "Running"
        report_id = answer["report_id"]
        assert len(report_id) == 22  # 128 random bits, URL-safe

        code, headers, content = server.wait(report_id)
        assert code == 200
        assert content == expected
        assert headers["content-type"].startswith("text/csv")
        assert headers["x-report-status"] == "Complete"
        assert f'filename="storemon-report-{report_id}.csv"' in headers["content-disposition"]

        # The same at /get_report/{id}, and as JSON.
        assert server.request("GET", f"/get_report/{report_id}")[2] == expected
        code, meta = server.json("GET", f"/get_report/{report_id}")
        assert code == 200
        assert meta["status"] == "Complete" and meta["stores"] == 200
        assert meta["as_of"] == "2023-03-14T18:30:00.000000Z"
        assert meta["created_at"] <= meta["finished_at"]
        assert len(meta["sql_version"]) == 12
        assert meta["csv_url"] == f"/reports/{report_id}.csv"  # never from the Host header
        assert meta["computed_by"] is None

        # The stored files: CSV identical, Parquet reads back to the same rows.
        assert server.request("GET", f"/reports/{report_id}.csv")[2] == expected
        code, headers, parquet = server.request("GET", f"/reports/{report_id}.parquet")
        assert code == 200
        (tmp_path / "r.parquet").write_bytes(parquet)
        rows = duckdb.sql(f"SELECT COLUMNS(*)::VARCHAR FROM '{tmp_path / 'r.parquet'}'").fetchall()
        assert rows == [tuple(r) for r in list(csv.reader(io.StringIO(expected.decode())))[1:]]

        code, listing = server.json("GET", "/reports")
        assert listing[0]["report_id"] == report_id and listing[0]["state"] == "done"
        assert listing[0]["seconds"] > 0

    # Finished reports are files on disk and rows in the database.
    assert (db.parent / "reports" / f"{report_id}.csv").read_bytes() == expected
    with duckdb.connect(str(db), read_only=True) as con:
        stored = con.execute(
            "SELECT count(*) FROM report_rows WHERE report_id = ?", [report_id]
        ).fetchone()
        run = con.execute(
            "SELECT status, sql_version, strftime(as_of, '%Y-%m-%d %H:%M:%S'), stores "
            "FROM report_runs WHERE report_id = ?",
            [report_id],
        ).fetchone()
    assert stored == (200,)
    assert run == ("Complete", meta["sql_version"], AS_OF, 200)


def test_unknown_malformed_and_bad_requests_say_which(db):
    with in_process(db) as server:
        code, answer = server.json("GET", "/get_report?report_id=" + "A" * 22)
        assert (code, answer["error"]) == (404, "unknown report id")
        code, answer = server.json("GET", "/get_report/not-an-id")
        assert (code, answer["error"]) == (400, "malformed report id")
        code, answer = server.json("GET", "/reports/" + "A" * 22 + ".txt")
        assert (code, answer["error"]) == (400, "malformed file name")
        assert server.json("GET", "/reports/" + "A" * 22 + ".csv")[0] == 404
        assert server.json("GET", "/get_report")[0] == 400  # no id at all
        code, answer = server.json("POST", "/trigger_report", {"as_of": "last tuesday"})
        assert (code, answer["error"]) == (400, "bad as_of")


def test_a_failed_report_says_why(tmp_path):
    with in_process(tmp_path / "empty.duckdb") as server:
        report_id = server.trigger()
        code, _, content = server.wait(report_id)
        answer = json.loads(content)
        assert code == 500
        assert answer["status"] == "Failed"
        assert answer["error"] == "report failed"
        assert "no data loaded yet" in answer["detail"]


def test_many_concurrent_triggers_all_complete_with_identical_content(db):
    with serving(db) as server:
        ids: list[str] = []
        threads = [
            threading.Thread(target=lambda: ids.append(server.trigger(AS_OF))) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(ids)) == 8
        contents = {server.wait(report_id)[2] for report_id in ids}
        assert len(contents) == 1
        assert all(server.wait(report_id)[0] == 200 for report_id in ids)


@pytest.mark.xdist_group("large_db")  # built once, in one test process
def test_health_answers_within_a_second_while_large_reports_compute(large_db, tmp_path):
    db = tmp_path / "storemon.duckdb"
    shutil.copy(large_db, db)
    with serving(db) as server:
        ids = [server.trigger(f"2023-03-14 1{hour}:00:00") for hour in range(6)]  # 6 to compute
        slowest, seen_computing = 0.0, False
        while True:
            started = time.perf_counter()
            code, health = server.json("GET", "/health")
            slowest = max(slowest, time.perf_counter() - started)
            assert code == 200 and health["data"]["stores"] == 6000
            states = {item["state"] for item in server.json("GET", "/reports")[1]}
            seen_computing |= "computing" in states
            if states == {"done"}:
                break
            time.sleep(0.05)
        assert seen_computing
        assert slowest < 1.0
        assert all(server.wait(report_id)[0] == 200 for report_id in ids)


@pytest.mark.xdist_group("large_db")  # built once, in one test process
def test_a_report_cut_off_by_a_crash_completes_after_restart(large_db, tmp_path):
    db = tmp_path / "storemon.duckdb"
    shutil.copy(large_db, db)
    with serving(db) as server:
        first = server.trigger()
        _, _, first_csv = server.wait(first)
        # Different instants, so that each is computed (identical asks share one computation).
        ids = [server.trigger(f"2023-03-14 1{hour}:00:00") for hour in range(4)]
        deadline = time.monotonic() + 60
        while not any(i["state"] == "computing" for i in server.json("GET", "/reports")[1]):
            assert time.monotonic() < deadline, "no report ever computed"
            time.sleep(0.01)
        server.kill()  # SIGKILL, mid-report
    with in_process(db) as server:  # a new service on the same file
        for report_id in ids:
            code, _, content = server.wait(report_id)
            assert code == 200
        code, _, content = server.request("GET", f"/get_report/{first}")
        assert (code, content) == (200, first_csv)
        listing = {item["report_id"]: item for item in server.json("GET", "/reports")[1]}
        assert max(listing[i]["attempts"] for i in ids) == 2  # at least one was started twice


def test_loading_new_data_while_serving_goes_through_the_service(db, tmp_path):
    files = generate(tmp_path / "new", stores=50, days=3, seed=9)
    with serving(db) as server:
        before = server.trigger()
        done = subprocess.run(
            ingest_command(db, files),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "handing the load to it" in done.stdout
        assert "50 stores loaded" in done.stdout
        assert server.json("GET", "/health")[1]["data"]["stores"] == 50
        after = server.trigger()
        assert server.wait(after)[0] == 200
        assert server.json("GET", f"/get_report/{after}")[1]["stores"] == 50
        # The report triggered before the load read one snapshot: the old data or the new.
        assert server.wait(before)[0] == 200
        assert server.json("GET", f"/get_report/{before}")[1]["stores"] in (50, 200)

        # `storemon report` hands over too, and gets the same CSV the API serves.
        out = tmp_path / "via.csv"
        done = subprocess.run(
            [sys.executable, "-m", "storemon", "report", "--db", str(db), "--out", str(out)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert out.read_bytes() == server.wait(after)[2]


def test_openapi_documents_every_route_with_its_responses(db):
    with in_process(db) as server:
        code, schema = server.json("GET", "/schema/openapi.json")
    assert code == 200
    paths = schema["paths"]
    expected = {
        ("/trigger_report", "post"): {"202", "400", "403", "413", "415", "503"},
        ("/get_report", "get"): {"200", "202", "400", "404", "410", "500"},
        ("/get_report/{report_id}", "get"): {"200", "202", "400", "404", "410", "500"},
        ("/reports/{file_name}", "get"): {"200", "202", "400", "404", "410", "500"},
        ("/reports", "get"): {"200"},
        ("/health", "get"): {"200"},
        ("/ingest", "post"): {"200", "400", "401", "403", "413", "415"},
        ("/keys", "post"): {"201", "400", "401", "403", "409", "413"},
    }
    for (path, method), codes in expected.items():
        operation = paths[path][method]
        assert operation["summary"], path
        assert operation["operationId"], path
        assert codes <= set(operation["responses"]), (path, method, operation["responses"])
    for path in ("/get_report", "/get_report/{report_id}"):
        for code in ("200", "202", "404", "500"):
            content = paths[path]["get"]["responses"][code]["content"]["application/json"]
            assert content["examples"], (path, code)


def test_a_header_only_file_handed_to_the_service_is_refused_unless_allowed(db, tmp_path):
    files = generate(tmp_path / "new", stores=20, days=2, seed=4)
    files.hours.write_text("store_id,dayOfWeek,start_time_local,end_time_local\n")
    with serving(db) as server:
        refused = subprocess.run(
            ingest_command(db, files), capture_output=True, text=True, cwd=ROOT, timeout=120
        )
        assert refused.returncode == 2
        assert "handing the load to it" in refused.stdout
        assert "has a header and no rows: nothing was loaded" in refused.stderr
        assert server.json("GET", "/health")[1]["data"]["stores"] == 200  # unchanged
        allowed = subprocess.run(
            [*ingest_command(db, files), "--allow-empty"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        assert allowed.returncode == 0, allowed.stderr
        assert server.json("GET", "/health")[1]["data"]["stores"] == 20


def test_closing_while_the_analysts_copies_are_rewritten_waits_for_them(db, monkeypatch):
    # A burst of batches rewrites the copies on a timer; a service closing just then (its
    # timer already fired) used to close the database under the rewrite ("connection is busy").
    started, finished = threading.Event(), threading.Event()

    def slow_copies(con) -> None:
        started.set()
        time.sleep(0.5)
        write_inputs(con)
        finished.set()

    monkeypatch.setattr(data_writer, "SNAPSHOT_DELAY", 0.0)
    monkeypatch.setattr(data_writer, "write_inputs", slow_copies)
    service = ReportService(db, workers=1, backend=backend_for(None, None))
    batch = db.parent / "batch.csv"
    batch.write_text("store_id,status,timestamp_utc\nlate-1,active,2023-03-14 18:10:00\n")
    service.append("polls", batch, shown="batch.csv", idempotency_key=None, media="text/csv")
    assert started.wait(30)
    service.close()  # waits for the rewrite under way, then closes
    assert finished.is_set()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute(
            "SELECT count(*) FROM polls JOIN stores USING (store_key) WHERE store_id = 'late-1'"
        ).fetchone() == (1,)


def test_handlers_run_on_a_thread_per_usable_core_and_never_fewer_than_two():
    """read_threads(): one handler thread per core the process may use, at least two (README,
    "Many readers at once": on two cores, two threads answer /health sooner than four)."""
    script = (
        "import os; from storemon.api import read_threads; "
        "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); print(read_threads())"
    )
    one_core = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert one_core.returncode == 0, one_core.stderr
    assert one_core.stdout.strip() == "2"
    assert read_threads() == max(2, len(os.sched_getaffinity(0)))
