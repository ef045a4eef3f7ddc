"""Nobody can hurt it: writes need the key, browsers cannot be turned against it, one request or
poll cannot exhaust it, and its disk use is bounded. Against a real server on loopback where
the server is the point (Host and Origin, HEAD, sockets, a full disk, concurrency, the CLI's
hand-over), else the same app in process."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from litestar import get, post
from litestar.testing import TestClient

from storemon.api import Settings, create_app
from storemon.api.access import ACCESS
from storemon.backends import KEPT_ROWS
from storemon.generate import generate
from storemon.report_files import SUFFIXES
from tests.conftest import write_csv
from tests.server import ROOT, in_process, ingest_command, serving
from tests.test_service import AS_OF

SECRET = "root:x:0:0:the-secret-line-of-a-file-the-caller-cannot-read"


def ingest_body(folder) -> dict:
    files = generate(folder, stores=30, days=3, seed=3)
    return {
        "status": str(files.status),
        "hours": str(files.hours),
        "timezones": str(files.timezones),
    }


# --- 1. a key for every write -----------------------------------------------------------


def test_the_service_makes_a_key_only_its_owner_can_read(db):
    with in_process(db) as server:
        token_file = db.with_name(db.name + ".token")
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert len(server.token) == 22  # 128 random bits, URL-safe
        first = server.token
    with in_process(db) as server:
        assert server.token == first  # kept across restarts


def test_writes_without_the_key_get_401_and_nothing_is_read(db, tmp_path):
    body = ingest_body(tmp_path / "new")
    with in_process(db) as server:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token-of-a-good-length"},
            {"Authorization": f"Basic {server.token}"},
            {"Authorization": f"Bearer {server.token}x"},
        ):
            code, answered, content = server.request("POST", "/ingest", body, headers=headers)
            answer = json.loads(content)
            assert code == 401, headers
            assert answer["error"] == "unauthorized"
            assert answered["www-authenticate"].startswith("Bearer")
        assert server.json("GET", "/health")[1]["data"]["stores"] == 200  # nothing changed
        assert body["status"] not in server.log.read_text()  # nor even opened

        code, answer = server.json("POST", "/ingest", body, headers=server.authorized())
        assert code == 200 and answer["stores"] == 30


def test_the_key_can_come_from_the_environment(db, tmp_path):
    token = "a-key-chosen-by-the-operator-42"
    with in_process(db, env={"STOREMON_TOKEN": token}) as server:
        body = ingest_body(tmp_path / "new")
        wrong = {"Authorization": "Bearer a-key-chosen-by-the-operator-43"}
        assert server.json("POST", "/ingest", body, headers=wrong)[0] == 401
        right = {"Authorization": f"Bearer {token}"}
        assert server.json("POST", "/ingest", body, headers=right)[0] == 200
    assert not db.with_name(db.name + ".token").exists()


def serve_refused(db) -> subprocess.CompletedProcess:
    """`storemon serve` on `db`, which is expected to stop before it listens."""
    return subprocess.run(
        [sys.executable, "-m", "storemon", "serve", "--db", str(db), "--port", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_a_key_file_others_can_read_stops_the_service_with_the_fix(db):
    token_file = db.with_name(db.name + ".token")
    token_file.write_text("0123456789abcdef0123\n")
    token_file.chmod(0o644)
    done = serve_refused(db)
    assert done.returncode == 2
    assert f"chmod 600 {token_file}" in done.stderr


def test_a_key_file_another_user_owns_stops_the_service(db):
    # 0600, but another user's: whoever owns it could set the key the service trusts.
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root, to make a file another user owns")
        pytest.skip("needs root, to make a file another user owns")
    token_file = db.with_name(db.name + ".token")
    token_file.write_text("0123456789abcdef0123\n")
    token_file.chmod(0o600)
    os.chown(token_file, 65534, 65534)
    done = serve_refused(db)
    assert done.returncode == 2
    assert "belongs to another user (uid 65534" in done.stderr
    token_file.unlink()
    token_file.symlink_to(db.with_name("elsewhere"))
    done = serve_refused(db)
    assert done.returncode == 2 and "cannot be opened as a file of its own" in done.stderr


def test_service_errors_never_quote_a_file(db, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\nsecond line\n")
    not_utf8 = tmp_path / "latin1.csv"
    not_utf8.write_bytes(b"store_id,status,timestamp_utc\n1,active,2023-01-01 00:00:00\n\xe9\xff\n")
    hours = write_csv(
        tmp_path / "h.csv", ("store_id", "dayOfWeek", "start_time_local", "end_time_local"), []
    )
    zones = write_csv(tmp_path / "z.csv", ("store_id", "timezone_str"), [])
    with in_process(db) as server:
        for status in (secret, not_utf8):
            code, _, content = server.request(
                "POST",
                "/ingest",
                # allow_empty: the header-only hours and zones must not stop the load first
                {
                    "status": str(status),
                    "hours": str(hours),
                    "timezones": str(zones),
                    "allow_empty": True,
                },
                headers=server.authorized(),
            )
            assert code == 400
            answer = json.loads(content)
            assert answer["error"] == "load failed"
            assert "the-secret-line" not in content.decode() and "root:x" not in content.decode()
            assert "\\u00e9" not in content.decode() and "é" not in content.decode()
        assert (
            "has no column 'store_id'"
            in json.loads(
                server.request(
                    "POST",
                    "/ingest",
                    {"status": str(secret), "hours": str(hours), "timezones": str(zones)},
                    headers=server.authorized(),
                )[2]
            )["detail"]
        )
    # The CLI, run by the file's owner, still shows what line 1 holds.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "storemon",
            "ingest",
            "--db",
            str(tmp_path / "own.duckdb"),
            "--status",
            str(secret),
            "--hours",
            str(hours),
            "--timezones",
            str(zones),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2 and "the-secret-line" in done.stderr


def test_the_cli_hands_work_over_with_the_key_and_says_when_it_has_none(db, tmp_path):
    files = generate(tmp_path / "new", stores=20, days=2, seed=4)
    command = ingest_command(db, files)
    with serving(db, env={"STOREMON_TOKEN": "the-operator-s-own-key-0001"}) as server:
        env = {k: v for k, v in os.environ.items() if k != "STOREMON_TOKEN"}
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=ROOT, timeout=60, env=env
        )
        assert done.returncode == 2
        assert "STOREMON_TOKEN" in done.stderr and ".token" in done.stderr
        env["STOREMON_TOKEN"] = "the-operator-s-own-key-0001"
        done = subprocess.run(
            command, capture_output=True, text=True, cwd=ROOT, timeout=60, env=env
        )
        assert done.returncode == 0, done.stderr
        assert server.json("GET", "/health")[1]["data"]["stores"] == 20


# --- 2. browsers cannot be turned against it --------------------------------------------


def test_json_routes_take_only_json_bodies(db):
    with in_process(db) as server:
        for content_type in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            code, _, content = server.request(
                "POST",
                "/trigger_report",
                data=b'{"as_of": null}',
                headers={"Content-Type": content_type},
            )
            assert (code, json.loads(content)["error"]) == (415, "unsupported media type")
            code, _, content = server.request(
                "POST",
                "/ingest",
                data=b"{}",
                headers={"Content-Type": content_type, **server.authorized()},
            )
            assert code == 415
        # No body at all is fine (curl -X POST), and so is JSON.
        assert server.json("POST", "/trigger_report")[0] == 202
        assert server.json("POST", "/trigger_report", {"as_of": AS_OF})[0] == 202
        assert server.json("GET", "/reports")[0] == 200  # nothing got stuck


def test_foreign_hosts_and_foreign_pages_are_refused(db):
    with serving(db) as server:
        code, answer = server.json("GET", "/health", headers={"Host": "attacker.example"})
        assert (code, answer["error"]) == (400, "host not allowed")
        code, answer = server.json(
            "POST", "/trigger_report", headers={"Host": "attacker.example:80"}
        )
        assert code == 400
        for host in ("localhost", f"127.0.0.1:{server.url.rsplit(':', 1)[1]}", "[::1]:8000"):
            assert server.json("GET", "/health", headers={"Host": host})[0] == 200, host
        code, answer = server.json(
            "POST", "/trigger_report", headers={"Origin": "http://attacker.example"}
        )
        assert (code, answer["error"]) == (403, "cross-origin request refused")
        assert server.json("POST", "/trigger_report", headers={"Origin": "null"})[0] == 403
        assert server.json("POST", "/trigger_report", headers={"Origin": server.url})[0] == 202
    with serving(db, "--allowed-host", "storemon.internal") as server:
        assert server.json("GET", "/health", headers={"Host": "storemon.internal"})[0] == 200


def test_a_query_parameter_a_route_does_not_take_is_refused(db):
    # A typo (allow_emtpy) used to be ignored: the batch was then refused for what it lacked.
    with in_process(db) as server:
        code, answer = server.json("GET", "/reports?limt=5")
        assert (code, answer["error"]) == (400, "unknown query parameter")
        assert answer["detail"] == (
            "this route takes no query parameter 'limt' (the ones it takes: limit)"
        )
        code, _, content = server.request(
            "POST",
            "/polls?allow_emtpy=true",
            data=b"store_id,status,timestamp_utc\n",
            headers={"Content-Type": "text/csv", **server.authorized()},
        )
        assert code == 400 and b"allow_empty" in content
        assert server.json("GET", "/reports?limit=5")[0] == 200
        assert server.request("GET", "/ui/?anything=1", accept="text/html")[0] == 200


def test_links_come_from_the_configured_public_url_never_from_the_host(db):
    with in_process(db, "--public-url", "https://storemon.example.org/") as server:
        report_id = server.trigger(AS_OF)
        server.wait(report_id)
        code, answer = server.json(
            "GET", f"/get_report/{report_id}", headers={"Host": "storemon.example.org"}
        )
        assert code == 200
        assert answer["csv_url"] == f"https://storemon.example.org/reports/{report_id}.csv"


def test_page_forms_need_a_csrf_token_and_the_api_does_not(db, monkeypatch):
    # a page of this test alone, open to anyone (storemon/api/access.py)
    monkeypatch.setitem(ACCESS, "GET /ui/form-test", "public")
    monkeypatch.setitem(ACCESS, "POST /ui/form-test", "public")

    @get("/ui/form-test", sync_to_thread=False)
    def page() -> str:
        return "a page with a form"

    @post("/ui/form-test", sync_to_thread=False)
    def form() -> str:
        return "posted"

    app = create_app(Settings(db=db, token="k" * 22))
    app.register(page)
    app.register(form)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        refused = client.post("/ui/form-test")
        assert refused.status_code == 403
        assert "<h1>Forbidden</h1>" in refused.text  # under /ui/, errors are pages
        assert client.get("/ui/form-test").status_code == 200  # hands out the token
        token = client.cookies.get("csrftoken")
        assert token
        assert client.post("/ui/form-test", headers={"x-csrftoken": token}).text == "posted"
        # The JSON API is exempt: its writes need the key, and browsers cannot send it JSON.
        assert client.post("/ingest", json={}).json()["error"] == "unauthorized"
        assert "csrftoken" not in client.get("/health").headers.get("set-cookie", "")


def test_every_answer_carries_the_security_headers_and_head_answers_every_get(db):
    # Pages, JSON, files, refusals and errors alike; HEAD is the GET's status and headers
    # without the body (it used to be 405).
    with serving(db) as server:
        report_id = server.trigger(AS_OF)
        assert server.wait(report_id)[0] == 200
        answers = {
            "page": server.request("GET", "/ui/", accept="text/html"),
            "json": server.request("GET", "/health"),
            "csv": server.request("GET", f"/reports/{report_id}.csv"),
            "docs": server.request("GET", "/schema"),
            "not found": server.request("GET", "/nowhere"),
            "no key": server.request(
                "POST", "/polls", data=b"", headers={"Content-Type": "text/csv"}
            ),
            "foreign host": server.request("GET", "/health", headers={"Host": "attacker.example"}),
        }
        assert [code for code, _, _ in answers.values()] == [200, 200, 200, 200, 404, 401, 400]
        for what, (_, headers, _) in answers.items():
            headers = {name.lower(): value for name, value in headers.items()}
            policy = headers.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, what
            assert "unsafe-inline" not in policy and "http" not in policy, what
            assert headers["x-frame-options"] == "DENY", what
            assert headers["x-content-type-options"] == "nosniff", what
            assert headers["referrer-policy"] == "same-origin", what
        for path in ["/health", f"/reports/{report_id}.csv", "/ui/", "/ui/static/storemon.css"]:
            code, headers, content = server.request("GET", path)
            head_code, head_headers, head_content = server.request("HEAD", path)
            assert (head_code, head_content) == (code, b""), path
            assert head_headers["content-length"] == str(len(content)), path
        assert server.request("HEAD", "/reports/AAAAAAAAAAAAAAAAAAAAAA.csv")[0] == 404


TRICKY_IDS = [
    "123\u202e654",
    "ab\u200bc",
    '=HYPERLINK("http://x","y")',
    "+1",
    "-2",
    "@sum",
    "plain",
]


def test_ids_with_invisible_characters_and_formulas_are_named_and_shown_as_they_read(workspace):
    # 123<U+202E>654 shows as "123456" where a page prints it plainly; =HYPERLINK(...) is a
    # formula to a spreadsheet. The data keeps both as spelled; data quality names them; the
    # pages isolate every id and make its invisible characters visible.
    space = workspace
    space.load(status=[(store_id, "active", "2023-01-09 15:00:00") for store_id in TRICKY_IDS])
    space.con.close()
    with in_process(space.db) as server:
        findings = {f["finding"]: f for f in server.json("GET", "/data_quality")[1]["findings"]}
        hidden = findings["polled stores whose id has invisible or direction characters"]
        assert (hidden["count"], hidden["examples"]) == (2, ["123\u202e654", "ab\u200bc"])
        formulas = findings["polled stores whose id a spreadsheet would run as a formula"]
        assert (
            formulas["count"] == 4
            and "import it with the store_id column as text" in (formulas["meaning"])
        )
        report_id = server.trigger()
        code, _, content = server.request("GET", f"/get_report?report_id={report_id}")
        deadline = time.monotonic() + 60
        while code == 202 and time.monotonic() < deadline:
            time.sleep(0.05)
            code, _, content = server.request("GET", f"/get_report?report_id={report_id}")
        ids = [row[0] for row in csv.reader(io.StringIO(content.decode()))][1:]
        assert sorted(ids) == sorted(TRICKY_IDS)  # exactly as spelled, formulas too
        page = server.request("GET", f"/ui/reports/{report_id}", accept="text/html")[2].decode()
        assert '<bdi>123<span class="fmt">⟨U+202E⟩</span>654</bdi>' in page
        assert "123\u202e654" not in page  # not even inside a link: that one is %-encoded
        store = server.request(
            "GET", f"/ui/reports/{report_id}/stores/123%E2%80%AE654", accept="text/html"
        )[2].decode()
        assert "<title>Store 123⟨U+202E⟩654" in store
        quality = server.request("GET", "/ui/data-quality", accept="text/html")[2].decode()
        assert '<bdi>ab<span class="fmt">⟨U+200B⟩</span>c</bdi>' in quality


# --- 3. cost bounded by the data --------------------------------------------------------


def test_as_of_must_be_a_strict_instant_within_the_data(db):
    with in_process(db) as server:
        health = server.json("GET", "/health")[1]
        earliest, latest = health["as_of_range"]
        for bad in ("2100-01-01 00:00:00", "2000-01-01T00:00:00Z"):
            code, answer = server.json("POST", "/trigger_report", {"as_of": bad})
            assert (code, answer["error"]) == (400, "bad as_of")
            # the report's own words (sql/report/01_report_window.sql), naming /health's range
            named = re.search(r"from (\S+ \S+)\+00 to (\S+ \S+)\+00 \(UTC\)", answer["detail"])
            assert named, answer["detail"]
            assert [datetime.fromisoformat(f"{t}+00:00") for t in named.groups()] == [
                datetime.fromisoformat(t) for t in (earliest, latest)
            ]
        for bad in ("1" * 60_000, "20230125", "2023-01-25", "yesterday", "2023-02-30 00:00:00"):
            code, answer = server.json("POST", "/trigger_report", {"as_of": bad})
            assert (code, answer["error"]) in (
                (400, "bad as_of"),
                (413, "request entity too large"),
            )
        code, answer = server.json("POST", "/trigger_report", {"as_of": latest})
        assert code == 202
        assert server.wait(answer["report_id"])[0] == 200


def test_a_poll_dated_2100_is_rejected_and_reports_stay_cheap(db, tmp_path):
    folder = tmp_path / "future"
    files = generate(folder, stores=30, days=7, seed=8)
    with files.status.open("a") as status:
        status.write(f"{'9' * 19},active,2100-01-01 00:00:00 UTC\n")
    body = {
        "status": str(files.status),
        "hours": str(files.hours),
        "timezones": str(files.timezones),
    }
    with in_process(db) as server:
        code, answer = server.json("POST", "/ingest", body, headers=server.authorized())
        assert code == 200
        # (the service names the line of a file on its machine, never its content)
        assert {
            "source": "polls",
            "reason": "timestamp in the future",
            "rows": 1,
            "line": files.status.read_text().count("\n"),
            "detail": None,
            "raw": None,
        } in answer["rejected"]
        assert server.json("GET", "/health")[1]["data"]["latest_poll"] < "2100"
        started = time.monotonic()
        assert server.wait(server.trigger())[0] == 200
        assert time.monotonic() - started < 10


# --- 4. bounded growth ------------------------------------------------------------------


def test_retention_keeps_the_newest_reports_and_says_410_for_the_rest(db):
    with in_process(db, "--keep-reports", "2") as server:
        ids = []
        for hour in range(3):
            ids.append(server.trigger(f"2023-03-14 1{hour}:00:00"))
            assert server.wait(ids[-1])[0] == 200
            page = server.request("GET", f"/ui/reports/{ids[-1]}", accept="text/html")
            assert page[0] == 200  # its answers kept (storemon/finished.py) ...
        # ... and forgotten with it: the page of a removed report says so
        assert server.request("GET", f"/ui/reports/{ids[0]}", accept="text/html")[0] == 410
        code, answer = server.json("GET", f"/get_report/{ids[0]}")
        assert (code, answer["error"]) == (410, "report removed")
        assert "--keep-reports" in answer["detail"] and "removed at 20" in answer["detail"]
        assert server.json("GET", f"/reports/{ids[0]}.csv")[0] == 410
        assert [server.json("GET", f"/get_report/{i}")[0] for i in ids[1:]] == [200, 200]
        listed = [item["report_id"] for item in server.json("GET", "/reports")[1]]
        assert listed == ids[:0:-1]
        limits = server.json("GET", "/health")[1]["limits"]
        assert limits["keep_reports"] == 2
    # the kept reports' files, and the gzip copy of a CSV a client took compressed
    kept = {path.name for path in (db.parent / "reports").iterdir()}
    assert {name.removesuffix(".gz") for name in kept} == {
        f"{i}{part}{suffix}"
        for i in ids[1:]
        for part in ("", ".outages", ".summary", ".rollups")
        for suffix in (".csv", ".parquet")
    }
    assert not any(name.startswith(ids[0]) for name in kept)
    with duckdb.connect(str(db), read_only=True) as con:
        for table in KEPT_ROWS:
            kept = con.execute(f"SELECT DISTINCT report_id FROM {table} ORDER BY 1").fetchall()
            if table in (
                "report_note_stores_rows",
                "report_rollups_rows",
                "report_store_groups_rows",
            ):
                assert kept == [], table  # none: no note names a store here, no groups
            else:
                assert kept == sorted((i,) for i in ids[1:]), table


def test_retention_by_age_applies_at_start(db):
    with in_process(db) as server:
        old = server.trigger(AS_OF)
        assert server.wait(old)[0] == 200
    time.sleep(0.2)
    with in_process(db, "--keep-report-days", "0.000001") as server:  # 0.09 s
        code, answer = server.json("GET", f"/get_report/{old}")
        assert code == 410 and "--keep-report-days" in answer["detail"]


def test_fifty_simultaneous_triggers_compute_once_with_identical_bytes(db):
    with serving(db) as server:
        ids: list[str] = []
        go = threading.Barrier(50)

        def trigger() -> None:
            go.wait()
            ids.append(server.trigger(AS_OF))

        threads = [threading.Thread(target=trigger) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(ids)) == 50
        answers = [server.wait(report_id) for report_id in ids]
        assert {code for code, _, _ in answers} == {200}
        assert len({content for _, _, content in answers}) == 1
    with duckdb.connect(str(db), read_only=True) as con:
        computed = con.execute(
            "SELECT count(*) FILTER (computed_by IS NULL), count(DISTINCT coalesce(computed_by, "
            "report_id)), count(*) FROM report_runs WHERE report_id IN (SELECT unnest(?))",
            [ids],
        ).fetchone()
    assert computed == (1, 1, 50)


@pytest.mark.xdist_group("large_db")  # built once, in one test process
def test_too_many_waiting_reports_get_503(large_db, tmp_path):
    db = tmp_path / "storemon.duckdb"
    shutil.copy(large_db, db)
    with in_process(db, "--max-waiting", "1", workers=1) as server:
        first = server.trigger("2023-03-14 10:00:00")
        code, answered, content = server.request(
            "POST", "/trigger_report", {"as_of": "2023-03-14 11:00:00"}
        )
        assert code == 503, content
        assert json.loads(content)["error"] == "busy" and answered["retry-after"]
        assert server.json("POST", "/trigger_report", {"as_of": "2023-03-14 10:00:00"})[0] == 202
        assert server.wait(first)[0] == 200


def test_connections_that_send_no_request_or_sit_idle_are_closed(db):
    # 40 connections that send nothing, or their headers a few bytes at a time, and one kept
    # alive after its answer: each is closed by the service within its timeout, and /health
    # answers throughout.
    with serving(db, "--header-timeout", "1", "--idle-timeout", "1") as server:
        host, port = server.url.removeprefix("http://").split(":")
        silent = [socket.create_connection((host, int(port)), timeout=10) for _ in range(20)]
        trickling = [socket.create_connection((host, int(port)), timeout=10) for _ in range(20)]
        kept = socket.create_connection((host, int(port)), timeout=10)
        kept.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            answer += kept.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        for n in range(8):  # 2.4 s of headers, a few bytes every 0.3 s: never whole
            for connection in trickling:
                with contextlib.suppress(OSError):
                    connection.sendall(b"GET /health HTTP/1.1\r\n" if n == 0 else b"X-A: b\r\n")
            assert server.json("GET", "/health")[0] == 200
            time.sleep(0.3)
        for connection in [*silent, *trickling, kept]:
            with contextlib.suppress(ConnectionResetError):
                assert connection.recv(65536) == b""  # closed by the service
            connection.close()
        assert time.monotonic() - started < 6
    assert "no whole request headers in 1 s" in server.log.read_text()


def test_a_body_over_the_limit_gets_413_before_it_is_sent(db):
    with serving(db) as server:
        limit = server.json("GET", "/health")[1]["max_request_bytes"]
        host, port = server.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            connection.sendall(
                b"POST /trigger_report HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: 9000000\r\n\r\n" + b'{"as_of": "' + b"1" * 1000
            )  # 9 MB announced, 1 kB sent: the answer cannot wait for the rest
            answer = b""
            while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
                chunk = connection.recv(65536)
                if not chunk:
                    break
                answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413")
        assert json.loads(body)["error"] == "request entity too large"
        assert limit == 64 * 1024


# --- 5. an unlucky machine ---------------------------------------------------------------

# The service on a disk of its own, a little larger than its data: a tmpfs mounted in a mount
# namespace of the server process alone (unshare; no root needed), seen from here through
# /proc/PID/root. $1 size, $2 the folder it is mounted on, $3 the data to copy onto it.
SMALL_DISK = (
    'mount -t tmpfs -o size="$1" storemon-test "$2" && cp -a "$3"/. "$2"/ && shift 3 && exec "$@"'
)


def polls_body(stores: int, at: str) -> bytes:
    rows = "".join(f"full-{n},active,{at}\n" for n in range(stores))
    return f"store_id,status,timestamp_utc\n{rows}".encode()


def test_a_full_disk_changes_nothing_says_so_and_the_service_stays_up(db, tmp_path):
    source, disk = tmp_path / "source", tmp_path / "disk"
    source.mkdir()
    disk.mkdir()
    shutil.copy(db, source / db.name)
    size = db.stat().st_size + 4 * 1024 * 1024
    launcher = ("unshare", "-rm", "sh", "-c", SMALL_DISK, "sh", str(size), str(disk), str(source))
    token = {"STOREMON_TOKEN": "t" * 40}
    with serving(disk / db.name, "--keep-reports", "1", launcher=launcher, env=token) as server:
        seen = Path(f"/proc/{server.process.pid}/root{disk}")  # the server's own view
        assert seen.is_dir() and (seen / db.name).exists()
        complete = server.trigger(AS_OF)
        assert server.wait(complete)[0] == 200
        polls = server.json("GET", "/health")[1]["data"]["polls"]
        before = os.statvfs(seen)
        (seen / "filler").write_bytes(b"\0" * (before.f_bavail * before.f_frsize - 64 * 1024))

        def post(body: bytes) -> tuple[int, dict]:
            code, _, content = server.request(
                "POST",
                "/polls",
                data=body,
                headers={"Content-Type": "text/csv", **server.authorized()},
            )
            return code, json.loads(content)

        code, answer = post(polls_body(20_000, "2023-03-14 18:30:00"))
        assert (code, answer["error"]) == (507, "no space left"), answer
        assert "nothing was changed" in answer["detail"] and "/" not in answer["detail"]
        assert server.json("GET", "/health")[0] == 200
        # A report on the full disk fails, says why without a path, and leaves no file behind;
        # and failed runs do not push the complete report out of --keep-reports 1.
        failed = [server.trigger(as_of) for as_of in ("2023-03-13 10:00:00", "2023-03-13 11:00:00")]
        for report_id in failed:
            code, _, content = server.request(
                "GET", f"/get_report?report_id={report_id}", accept="application/json"
            )
            deadline = time.monotonic() + 60
            while code == 202 and time.monotonic() < deadline:
                time.sleep(0.1)
                code, _, content = server.request(
                    "GET", f"/get_report?report_id={report_id}", accept="application/json"
                )
            answer = json.loads(content)
            assert (code, answer["status"]) == (500, "Failed"), answer
            assert "no space left" in answer["detail"] and str(disk) not in answer["detail"]
        assert sorted(p.name for p in (seen / "reports").iterdir()) == sorted(
            f"{complete}{suffix}" for suffix in SUFFIXES
        )
        assert server.request("GET", f"/reports/{complete}.csv")[0] == 200
        # Space again: the next batch goes in, and only it (the refused one left nothing).
        (seen / "filler").unlink()
        code, answer = post(polls_body(3, "2023-03-14 18:40:00"))
        assert (code, answer["kept"]) == (201, 3), answer
        assert server.json("GET", "/health")[1]["data"]["polls"] == polls + 3
        assert server.wait(server.trigger(AS_OF))[0] == 200
    logged = server.log.read_text()
    assert "no space left on the disk" in logged
