"""Through a real `storemon serve` on a free loopback port: trigger -> Complete, a report's
pages, one store's week, and the live week of hourly batches through POST /polls."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import duckdb

from storemon.auth import client_token
from storemon.bench.children import free_port, run_child, storemon
from storemon.bench.data import Prepared, hourly_batches
from storemon.bench.results import Result
from storemon.client import call, service_file
from storemon.database import scalar
from storemon.errors import StoremonError


@contextmanager
def bench_server(db: Path, log_path: Path, *args: str) -> Iterator[tuple[str, list]]:
    """`storemon serve` on a free loopback port; yields its URL and a list that holds the
    server's rusage once it has stopped."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    usage: list = []
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            storemon("serve", "--db", str(db), "--port", str(port), *args),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    call("GET", f"{url}/health")
                    break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        message = f"bench: the server did not start; see {log_path}"
                        raise StoremonError(message) from None
                    time.sleep(0.05)
            yield url, usage
        finally:
            if server.returncode is None:  # not yet reaped by poll() above
                server.send_signal(signal.SIGINT)
                _, status, rusage = os.wait4(server.pid, 0)
                server.returncode = os.waitstatus_to_exitcode(status)
                usage.append(rusage)


def wait_for(url: str, report_id: str, log_path: Path) -> bytes:
    while (code := call("GET", f"{url}/get_report/{report_id}")[0]) == 202:
        time.sleep(0.01)
    if code != 200:
        raise StoremonError(f"bench: report {report_id} failed; see {log_path}")
    return call("GET", f"{url}/get_report/{report_id}", accept="text/csv")[2]


def trigger(url: str, as_of: str | None = None) -> str:
    answer = call("POST", f"{url}/trigger_report", {"as_of": as_of} if as_of else None)
    return json.loads(answer[2])["report_id"]


def remove_scratch(db: Path) -> None:
    shutil.rmtree(db.parent / "reports", ignore_errors=True)
    for path in (db, Path(f"{db}.wal"), Path(f"{db}.token"), service_file(db)):
        path.unlink(missing_ok=True)


def full_load_report(data: Prepared) -> tuple[bytes, str]:
    """The report of the whole data set as one full load, as of its latest poll."""
    with duckdb.connect(str(data.db), read_only=True) as con:
        as_of = scalar(
            con, "SELECT strftime(max(timestamp_utc), '%Y-%m-%d %H:%M:%S.%f') FROM polls"
        )
    out = data.folder / "full-load-report.csv"
    run_child(storemon("report", "--db", str(data.db), "--out", str(out), "--as-of", as_of))
    return out.read_bytes(), as_of


STORE_WEEKS = 25  # stores whose week the bench asks for, each once


REPORT_PAGES = [  # the report pages the bench asks for
    "",
    "?sort=outages_last_week&order=desc",
    "?sort=store_id&order=asc&page=100",
    "?sort=longest_outage_last_week&order=desc&q=a",
    "?sort=uptime_last_day&order=asc&q=1&page=3",
    "?sort=down_now&order=desc",
]


OWNER = "owner:o0001"  # storemon generate's owner of 60 stores
OWNER_CSVS = 10


def bench_api(data: Prepared, repeat: int) -> tuple[Result, Result, Result, Result]:
    """Trigger -> Complete through a real server on a free loopback port; then one store's week
    (GET /reports/ID/stores/STORE) for stores spread over the report, each asked once; the
    report's pages; and the report CSV as an owner's key reads it (OWNER's stores alone)."""
    db = data.folder / "api-scratch.duckdb"
    shutil.copyfile(data.db, db)
    log_path = data.folder / "api-server.log"
    with bench_server(db, log_path) as (url, usage):
        latest = datetime.fromisoformat(
            json.loads(call("GET", f"{url}/health")[2])["data"]["latest_poll"]
        )
        seconds = []
        for turn in range(repeat + 1):  # the first round warms the server and is not counted
            # Each as of its own instant: identical asks would share one computation.
            as_of = (latest - timedelta(seconds=turn)).strftime("%Y-%m-%d %H:%M:%S.%f")
            started = time.perf_counter()
            answer = call("POST", f"{url}/trigger_report", {"as_of": as_of})
            report_id = json.loads(answer[2])["report_id"]
            report_csv = wait_for(url, report_id, log_path)
            seconds.append(time.perf_counter() - started)
        stores = [line.split(",", 1)[0] for line in report_csv.decode().splitlines()[1:]]
        step = max(1, len(stores) // STORE_WEEKS)
        week_seconds = []
        for turn, store_id in enumerate([stores[0], *stores[::step][:STORE_WEEKS]]):
            started = time.perf_counter()
            code, _, _ = call("GET", f"{url}/reports/{report_id}/stores/{quote(store_id, safe='')}")
            if code != 200:
                raise StoremonError(f"bench: a store's week answered {code}; see {log_path}")
            if turn:  # the first warms the store-week cursor and is not counted
                week_seconds.append(time.perf_counter() - started)
        page_seconds = []
        for turn, query in enumerate(["", *REPORT_PAGES]):
            started = time.perf_counter()
            code, _, _ = call("GET", f"{url}/ui/reports/{report_id}{query}", accept="text/html")
            if code != 200:
                raise StoremonError(f"bench: a report page answered {code}; see {log_path}")
            if turn:  # the first warms the templates and is not counted
                page_seconds.append(time.perf_counter() - started)
        token = client_token(db)
        _, _, made = call(
            "POST", f"{url}/keys", {"name": "bench-owner", "groups": [OWNER]}, token=token
        )
        owner = json.loads(made)["key"]
        owner_seconds = []
        for turn in range(OWNER_CSVS + 1):
            started = time.perf_counter()
            code, _, body = call("GET", f"{url}/reports/{report_id}.csv", accept="*/*", token=owner)
            if code != 200:
                raise StoremonError(f"bench: an owner's CSV answered {code}; see {log_path}")
            if turn:  # the first warms the cursor and is not counted
                owner_seconds.append(time.perf_counter() - started)
        owner_stores = len(body.splitlines()) - 1
    remove_scratch(db)
    peak = usage[0].ru_maxrss * 1024
    return (
        Result("api", "trigger -> Complete through the API", data.describe(), seconds[1:], peak),
        Result(
            "report_page",
            f"a report's page, /ui/reports/ID ({len(REPORT_PAGES)} sorts, searches and pages)",
            data.describe(),
            page_seconds,
            peak,
        ),
        Result(
            "store_week",
            f"one store's week via GET /reports/ID/stores/STORE ({STORE_WEEKS} stores)",
            data.describe(),
            week_seconds,
            peak,
        ),
        Result(
            "owner_csv",
            f"the report CSV through an owner's key ({OWNER}: {owner_stores} stores)",
            data.describe(),
            owner_seconds,
            peak,
        ),
    )


SPECIAL_BATCHES = 5  # batches of special hours the bench sends after the live week


class Receiver:
    """A local webhook receiver for the live week's alerts: when each event arrived."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}  # batch_id -> when its first down event came
        self.events = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.perf_counter()
                event = json.loads(body)
                receiver.events += 1
                if event["kind"] == "down":
                    receiver.arrived.setdefault(event["batch_id"], now)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def bench_live(
    data: Prepared, full_report: bytes, as_of: str
) -> tuple[Result, Result, bool, Result, Result]:
    """The live week: the polls as hourly batches through POST /polls on a real server whose
    hours and zones were loaded first, a report after every 24th batch. Returns the batch
    answer times, the whole week, whether the last report equals the full load's, and the
    answer times of SPECIAL_BATCHES batches of special hours after it (a row per store each),
    and how long after a batch's answer its first `down` event reached a local webhook (the
    service runs with --notify to it: alerts on)."""
    db = data.folder / "live-scratch.duckdb"
    remove_scratch(db)
    empty = data.folder / "no-polls.csv"
    empty.write_text("store_id,status,timestamp_utc\n")
    run_child(
        storemon(
            "ingest",
            "--db",
            str(db),
            "--status",
            str(empty),
            "--hours",
            str(data.folder / "menu_hours.csv"),
            "--timezones",
            str(data.folder / "timezones.csv"),
            "--allow-empty",
        )
    )
    batches = hourly_batches(data)
    log_path = data.folder / "live-server.log"
    answers: list[float] = []
    answered: dict[str, float] = {}  # batch_id -> when its answer came
    expected = 0  # events the batches made
    receiver = Receiver()
    with bench_server(db, log_path, "--notify", receiver.url) as (url, usage):
        token = client_token(db)
        started = time.perf_counter()
        for number, batch in enumerate(batches, 1):
            body = batch.read_bytes()
            clock = time.perf_counter()
            code, _, said = call("POST", f"{url}/polls", token=token, raw=body, media="text/csv")
            answers.append(time.perf_counter() - clock)
            if code != 201:
                raise StoremonError(f"bench: batch {batch.name} answered {code}: {said[:200]!r}")
            answer = json.loads(said)
            answered[answer["batch_id"]] = time.perf_counter()
            expected += answer["events"]
            if number % 24 == 0:
                wait_for(url, trigger(url), log_path)
        week = time.perf_counter() - started
        last = wait_for(url, trigger(url, as_of), log_path)
        special = special_batches(data)
        special_answers: list[float] = []
        for body in special:
            clock = time.perf_counter()
            code, _, said = call(
                "POST", f"{url}/special_hours", token=token, raw=body, media="text/csv"
            )
            special_answers.append(time.perf_counter() - clock)
            if code != 201:
                raise StoremonError(f"bench: special hours answered {code}: {said[:200]!r}")
        deadline = time.monotonic() + 60  # the last batches' events, still on their way
        while receiver.events < expected and time.monotonic() < deadline:
            time.sleep(0.1)
    receiver.close()
    delays = [
        max(receiver.arrived[batch] - at, 0.0)
        for batch, at in answered.items()
        if batch in receiver.arrived
    ]
    remove_scratch(db)
    rss = usage[0].ru_maxrss * 1024
    described = f"{data.describe()} as {len(batches)} hourly batches"
    return (
        Result("live_batch", "one hour of polls via POST /polls, answer", described, answers, rss),
        Result(
            "live_week",
            "the live data via the API, hour by hour, a report every 24 batches",
            described,
            [week],
            rss,
        ),
        last == full_report,
        Result(
            "special_batch",
            "a special-hours row per store via POST /special_hours, answer",
            f"{data.describe()}, {len(special[0].splitlines()) - 1:,} rows a batch",
            special_answers,
            rss,
        ),
        Result(
            "alert_delay",
            "a batch's first down event at a local webhook, after the batch's answer",
            f"{described}: {receiver.events:,} events, {len(delays):,} batches with a down event",
            delays,
            rss,
        ),
    )


def special_batches(data: Prepared) -> list[bytes]:
    """SPECIAL_BATCHES CSV bodies of special hours: each closes every store with hours on a
    date of its own, after the data's days."""
    with (data.folder / "menu_hours.csv").open() as handle:
        stores = sorted({line.split(",", 1)[0] for line in handle.read().splitlines()[1:]})
    return [
        (
            "store_id,date,start_time_local,end_time_local\n"
            + "".join(f"{store},2031-01-{number + 1:02d},,\n" for store in stores)
        ).encode()
        for number in range(SPECIAL_BATCHES)
    ]
