"""Outages delivered beside the report, and one store's week, against a real server (and the
CLI): the files, the links, the store endpoint and what it is made of."""

from __future__ import annotations

import csv
import html
import io
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import duckdb
import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from storemon import service as service_module
from storemon.api import Settings, create_app
from storemon.database import connect, run_all
from storemon.generate import generate
from storemon.ingest import STORE_ID_MAX, ingest
from storemon.instants import ISO, iso, iso_us, local_text
from storemon.instants import instant as instant_of
from storemon.report import report_files
from storemon.service import ReportService
from storemon.store_week import KEPT_WEEKS, StoreWeeks
from storemon.store_week import kept as kept_module
from storemon.store_week.computed import latest_batch
from tests.conftest import STATUS_HEADER, Workspace, examples, write_csv
from tests.server import in_process, storemon
from tests.test_service import AS_OF
from tests.test_spec_rules import OPENING_AT_NOW, OPENING_AT_NOW_ROW

PARTS = ("outages", "summary")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def table(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.fixture
def finished(db):
    """A server on `db` with one finished report as of AS_OF: (server, report JSON)."""
    with in_process(db) as server:
        report_id = server.trigger(AS_OF)
        assert server.wait(report_id)[0] == 200
        code, answer = server.json("GET", f"/get_report/{report_id}")
        assert code == 200
        yield server, answer


def test_outages_and_summary_come_beside_the_report_not_in_it(finished, db, tmp_path):
    server, answer = finished
    report_id = answer["report_id"]
    code, _, report_csv = server.request("GET", f"/reports/{report_id}.csv")
    assert report_csv.decode().splitlines()[0] == (
        "store_id,uptime_last_hour,uptime_last_day,uptime_last_week,"
        "downtime_last_hour,downtime_last_day,downtime_last_week"
    )
    # The JSON answer links every file; each is there in both formats, the same rows.
    for part in PARTS:
        code, headers, content = server.request("GET", answer[f"{part}_csv_url"])
        assert (code, headers["content-type"].split(";")[0]) == (200, "text/csv")
        code, _, parquet = server.request("GET", answer[f"{part}_parquet_url"])
        assert code == 200
        (tmp_path / f"{part}.parquet").write_bytes(parquet)
        with duckdb.connect() as con:
            from_parquet = con.execute(
                f"SELECT count(*) FROM '{tmp_path / part}.parquet'"
            ).fetchone()[0]
        assert from_parquet == len(table(content))
    outages = table(server.request("GET", answer["outages_csv_url"])[2])
    summary = table(server.request("GET", answer["summary_csv_url"])[2])
    report = {row["store_id"]: row for row in table(report_csv)}
    assert [row["store_id"] for row in summary] == list(report)  # one row per report store
    assert len(outages) > 20
    # The outages' exact down time adds up to each store's downtime in the week.
    by_store: dict[str, int] = {}
    for row in outages:
        by_store[row["store_id"]] = by_store.get(row["store_id"], 0) + int(row["down_us"])
    for store_id, row in report.items():
        assert round(by_store.get(store_id, 0) / 3600e6, 2) == float(row["downtime_last_week"])
    # The CLI writes the same files, byte for byte (the service is stopped: it computes itself).
    server.stop()
    out = {name: tmp_path / f"cli.{name}.csv" for name in ("report", *PARTS)}
    storemon(
        "report", "--db", str(db), "--as-of", AS_OF, "--out", str(out["report"]),
        "--outages", str(out["outages"]), "--summary", str(out["summary"]),
    )  # fmt: skip
    assert out["report"].read_bytes() == report_csv
    for part in PARTS:
        assert (
            out[part].read_bytes()
            == (db.parent / "reports" / f"{report_id}.{part}.csv").read_bytes()
        )


def test_unknown_reports_and_parts_are_refused(finished):
    server, answer = finished
    assert server.json("GET", "/reports/AAAAAAAAAAAAAAAAAAAAAA/outages.csv")[0] == 404
    code, body = server.json("GET", f"/reports/{answer['report_id']}/outages.xlsx")
    assert (code, body["error"]) == (400, "invalid request")


def test_one_stores_week_explains_its_numbers(finished):
    server, answer = finished
    report_id = answer["report_id"]
    report = {row["store_id"]: row for row in table(server.request("GET", answer["csv_url"])[2])}
    outages = table(server.request("GET", answer["outages_csv_url"])[2])
    # the store with the most outages
    counts: dict[str, int] = {}
    for row in outages:
        counts[row["store_id"]] = counts.get(row["store_id"], 0) + 1
    store_id = max(sorted(counts), key=counts.get)
    url = answer["store_url"].replace("{store_id}", store_id)
    code, week = server.json("GET", url)
    assert code == 200, week
    assert (week["report_id"], week["store_id"], week["data_changed"]) == (
        report_id,
        store_id,
        False,
    )
    assert week["as_of"] == answer["as_of"]
    assert {k: f"{v:.2f}" for k, v in week["report"].items()} == {
        k: v for k, v in report[store_id].items() if k != "store_id"
    }
    assert week["summary"]["outages_last_week"] == counts[store_id] == len(week["outages"])
    mine = [row for row in outages if row["store_id"] == store_id]
    assert [o["started_at_local"] for o in week["outages"]] == [o["started_at_local"] for o in mine]
    assert [o["down_us"] for o in week["outages"]] == [int(o["down_us"]) for o in mine]
    # The material adds up to the numbers: the business time that inactive evidence polls
    # stand for is the downtime of the week, and every outage lies inside business time.
    intervals = [
        (instant(i["opens_at"]), instant(i["closes_at"])) for i in week["business_intervals"]
    ]
    down = 0.0
    for poll in week["polls"]:
        if poll["evidence"] and not poll["active"]:
            start, end = instant(poll["stands_from"]), instant(poll["stands_to"])
            for opens, closes in intervals:
                down += max(0.0, (min(end, closes) - max(start, opens)).total_seconds())
    assert round(down / 3600, 2) == float(report[store_id]["downtime_last_week"])
    for outage in week["outages"]:
        started = instant(outage["started_at"])
        assert any(opens <= started < closes for opens, closes in intervals)
    assert all(p["stands_from"] is None for p in week["polls"] if not p["evidence"])


def test_a_store_not_in_the_report_is_404_and_new_data_is_flagged(finished, tmp_path):
    server, answer = finished
    report_id = answer["report_id"]
    code, body = server.json("GET", f"/reports/{report_id}/stores/no-such-store")
    assert (code, body["error"]) == (404, "unknown store")
    assert server.json("GET", "/reports/AAAAAAAAAAAAAAAAAAAAAA/stores/x")[0] == 404
    store_id = table(server.request("GET", answer["csv_url"])[2])[0]["store_id"]
    batch = write_csv(
        tmp_path / "batch.csv", STATUS_HEADER, [(store_id, "active", "2023-03-14 18:00:00 UTC")]
    )
    code, _, _ = server.request(
        "POST",
        "/polls",
        data=batch.read_bytes(),
        headers={"Content-Type": "text/csv", **server.authorized()},
    )
    assert code in (200, 201)
    code, week = server.json("GET", f"/reports/{report_id}/stores/{store_id}")
    assert (code, week["data_changed"]) == (200, True)


def finished_report(client) -> str:
    """Trigger a report through the in-process client and wait for it: its id."""
    report_id = client.post("/trigger_report").json()["report_id"]
    deadline = time.monotonic() + 60
    while (answer := client.get(f"/get_report/{report_id}")).status_code == 202:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert answer.status_code == 200
    return report_id


def test_a_store_whose_last_poll_is_now_on_an_opening_instant_is_explained(tmp_path):
    # sql/README.md rule 6 (tests/test_spec_rules.py): 23 h up over the week, and the week
    # shows why.
    ws = Workspace(tmp_path)
    try:
        ws.load(**OPENING_AT_NOW)
    finally:
        ws.con.close()
    app = create_app(Settings(db=ws.db, token="k" * 22))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        week = client.get(f"/reports/{finished_report(client)}/stores/C").json()
        assert week["report"] == OPENING_AT_NOW_ROW
        assert week["outages"] == [] and week["summary"]["down_now"] is False
        last = week["polls"][-1]
        assert (last["taken_at"], last["active"], last["evidence"]) == (
            "2025-04-27T09:00:00.000000Z",
            False,
            True,
        )
        assert (last["stands_from"], last["stands_to"]) == (
            "2025-04-26T22:30:00.000000Z",
            "2025-04-27T09:00:00.000000Z",
        )


# Store ids as the world spells them: slashes (doubled, leading, trailing), percent signs, query
# and fragment marks, blanks inside, non-ASCII, and the longest id the loader takes. (An id that
# is only dots, `.` or `..`, is a path segment every client resolves before sending it; no path
# can name it.)
awkward_id = st.one_of(
    st.sampled_from(["a/b", "a//b/", "/x", "50%", "a?b=1#c", "x y", "é/ü", "+&=;", "a/../b"]),
    st.text(st.sampled_from("ab/%?#& .+é"), min_size=1, max_size=12).filter(
        lambda s: s.strip(" \t") == s and s.strip(".")
    ),
    st.just("s" * STORE_ID_MAX),
)


@settings(
    max_examples=examples(4),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(ids=st.lists(awkward_id, min_size=1, max_size=6, unique=True))
@example(ids=["/", "a/", "/b", "%2F"])  # a router read a decoded `/` as another path
def test_every_store_of_a_report_opens_from_its_link(tmp_path_factory, ids):
    folder = tmp_path_factory.mktemp("ids")
    db = folder / "storemon.duckdb"
    ws = Workspace(folder)
    try:
        ws.load(status=[(i, "active", "2023-01-09 15:00:00") for i in ids])
    finally:
        ws.con.close()
    app = create_app(Settings(db=db, token="k" * 22))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        report_id = finished_report(client)
        template = client.get(
            f"/get_report/{report_id}", headers={"Accept": "application/json"}
        ).json()["store_url"]
        for store_id in ids:
            week = client.get(template.replace("{store_id}", quote(store_id, safe="")))
            assert (week.status_code, week.json()["store_id"]) == (200, store_id)
        page = client.get(f"/ui/reports/{report_id}?page_size=100").text
        links = re.findall(r'href="(/ui/reports/[^"]+/stores/[^"]+)"', page)
        assert len(links) == len(ids)
        for link in links:
            opened = client.get(html.unescape(link))
            assert opened.status_code == 200, link
    # One character more than the loader takes: rejected, saying why (never unreachable).
    too_long = "s" * (STORE_ID_MAX + 1)
    ws = Workspace(folder)
    try:
        result = ws.load(
            status=[
                (too_long, "active", "2023-01-09 15:00:00"),
                (ids[0], "active", "2023-01-09 15:00:00"),
            ]
        )
        [why] = result.rejected
        assert (why.reason, why.rows) == ("store_id too long", 1)
        assert (
            f"is {STORE_ID_MAX + 1} characters long; an id has at most {STORE_ID_MAX}" in why.detail
        )
    finally:
        ws.con.close()


def _complete(service: ReportService, as_of: datetime | None = None) -> str:
    report_id = service.trigger(as_of)
    deadline = time.monotonic() + 60
    while (run := service.get(report_id)) is not None and run.status != "Complete":
        assert run.status != "Failed" and time.monotonic() < deadline
        time.sleep(0.02)
    return report_id


def _kept(service: ReportService, report_id: str) -> None:
    deadline = time.monotonic() + 60
    while report_id not in service.store_weeks.kept():
        assert time.monotonic() < deadline, "the report's weeks were never kept"
        time.sleep(0.02)


def _twenty_stores(tmp_path) -> ReportService:
    """A service on a generated week of 20 stores, computing one report at a time."""
    files = generate(tmp_path / "csv", stores=20, days=7, seed=5)
    db = tmp_path / "twenty.duckdb"
    with connect(db) as con:
        ingest(con, files.status, files.hours, files.timezones)
    return ReportService(db, workers=1)


def test_the_kept_weeks_answer_as_computing_each_store_does(tmp_path):
    """Every store's week of the reports read last is kept (sql/store_weeks/): each answer from
    them equals the one computed for that store alone, special hours and groups loaded; new
    data sends the store's week back to being computed, and says so."""
    files = generate(tmp_path / "csv", stores=60, days=7, seed=11)
    db = tmp_path / "kept.duckdb"
    with connect(db) as con:
        ingest(con, files.status, files.hours, files.timezones,
               special_hours=files.special, groups=files.groups)  # fmt: skip
    service = ReportService(db)
    try:
        report_id = _complete(service)
        stores = [row[0] for row in service.con.execute(
            "SELECT store_id FROM report_rows WHERE report_id = ? ORDER BY store_id", [report_id]
        ).fetchall()]  # fmt: skip
        assert service.store_week(report_id, stores[0]) is not None  # computed; keeps them
        _kept(service, report_id)
        computing = StoreWeeks(service.con, service.backend, kept_weeks=0)
        try:
            specials = 0
            for store_id in stores:
                kept, computed = (
                    msgspec.to_builtins(weeks.get(report_id, store_id))
                    for weeks in (service.store_weeks, computing)
                )
                assert kept == computed, store_id
                specials += bool(kept["special_days"])
            assert specials > 0  # special dates were among them
            assert service.store_week(report_id, "no-such-store") is None
        finally:
            computing.close()
        batch = write_csv(tmp_path / "b.csv", STATUS_HEADER, [(stores[0], "active", AS_OF)])
        service.append("polls", batch, shown="b.csv", idempotency_key=None, media="text/csv")
        assert service.store_week(report_id, stores[0]).data_changed is True
    finally:
        service.close()


def test_the_weeks_of_the_reports_read_last_are_kept_and_the_oldest_goes(tmp_path):
    service = _twenty_stores(tmp_path)
    try:
        latest = service.con.execute("SELECT max(epoch_us(timestamp_utc)) FROM polls").fetchone()
        last = datetime.fromtimestamp(latest[0] / 1e6, UTC)
        reports = [_complete(service, last - timedelta(hours=n)) for n in range(KEPT_WEEKS + 1)]
        store_id = service.con.execute("SELECT min(store_id) FROM stores").fetchone()[0]
        answers = {}
        for report_id in reports:
            answers[report_id] = msgspec.to_builtins(service.store_week(report_id, store_id))
            _kept(service, report_id)
        assert service.store_weeks.kept() == reports[1:]  # the first went
        for report_id in reports:  # each answers as it did, kept or not
            assert (
                msgspec.to_builtins(service.store_week(report_id, store_id)) == answers[report_id]
            )
    finally:
        service.close()


def test_a_finished_reports_weeks_are_kept_at_once_only_while_the_one_before_was_read(
    tmp_path, monkeypatch
):
    """As a report finishes, its weeks are kept if a store week of the report before it was
    read; otherwise at its own first store week: reports nobody opens cost no keeping."""
    monkeypatch.setattr(service_module, "KEEP_AS_IT_FINISHES", 1)
    service = _twenty_stores(tmp_path)
    try:
        latest = service.con.execute("SELECT max(epoch_us(timestamp_utc)) FROM polls").fetchone()
        last = datetime.fromtimestamp(latest[0] / 1e6, UTC)
        store_id = service.con.execute("SELECT min(store_id) FROM stores").fetchone()[0]
        first = _complete(service, last)
        _kept(service, first)  # the first is kept as it finishes
        service.store_week(first, store_id)
        second = _complete(service, last - timedelta(hours=1))
        _kept(service, second)  # the first was read
        third = _complete(service, last - timedelta(hours=2))
        time.sleep(0.5)
        assert third not in service.store_weeks.kept()  # nobody read the second
        service.store_week(third, store_id)  # its first store week keeps it
        _kept(service, third)
        fourth = _complete(service, last - timedelta(hours=3))
        _kept(service, fourth)  # the third was read
    finally:
        service.close()


@pytest.mark.parametrize("when", ["in its slow statement", "before its first statement"])
def test_a_report_that_starts_interrupts_the_keeping_of_weeks(tmp_path, monkeypatch, when):
    """Keeping a report's weeks gives way to a report that starts computing (give_way): the
    keeping stops at once, keeps nothing, and the weeks are kept at the next store week. (A
    DuckDB interrupt lands only on a running statement: one between statements is not lost.)"""
    service = _twenty_stores(tmp_path)
    try:
        report_id = _complete(service)
        slow = tmp_path / "05_slow.sql"  # a keeping that would take minutes
        slow.write_text("CREATE TEMP TABLE slow AS SELECT sum(i) FROM range(10000000000) t(i);")
        real = kept_module.rows_file
        monkeypatch.setattr(kept_module, "rows_file", lambda: slow)
        weeks = service.store_weeks._kept
        weeks.keep_later(report_id, latest_batch(service.con))
        if when == "in its slow statement":
            deadline = time.monotonic() + 30
            while weeks._making_on is None:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            time.sleep(0.2)  # (most likely well into it; if not, before it: both must stop)
        started = time.monotonic()
        service.store_weeks.give_way()
        weeks._maker.join(timeout=30)
        assert not weeks._maker.is_alive() and time.monotonic() - started < 5
        assert service.store_weeks.kept() == []
        monkeypatch.setattr(kept_module, "rows_file", real)
        store_id = service.con.execute("SELECT min(store_id) FROM stores").fetchone()[0]
        assert service.store_week(report_id, store_id) is not None
        _kept(service, report_id)
    finally:
        service.close()


class _PausingAtClose:
    """The service's connection, but each cursor it gives, once closed, waits for `go`."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con, self.closed, self.go = con, threading.Event(), threading.Event()

    def cursor(self) -> _PausingAtClose._Cursor:
        return self._Cursor(self.con.cursor(), self)

    class _Cursor:
        def __init__(self, cur: duckdb.DuckDBPyConnection, owner: _PausingAtClose) -> None:
            self.cur, self.owner = cur, owner

        def __getattr__(self, name: str):
            return getattr(self.cur, name)

        def __enter__(self) -> _PausingAtClose._Cursor:
            return self

        def __exit__(self, *_) -> None:
            self.cur.close()
            self.owner.closed.set()
            assert self.owner.go.wait(30)


def test_a_report_that_starts_as_a_keeping_closes_its_cursor_starts(tmp_path):
    """A report that starts (give_way) just as a keeping of weeks has finished and closed its
    cursor neither interrupts the closed cursor (DuckDB would raise, into the report's start)
    nor undoes the keeping."""
    service = _twenty_stores(tmp_path)
    weeks = service.store_weeks._kept
    try:
        report_id = _complete(service)
        assert service.store_weeks.kept() == []  # nobody read the report before it
        pausing = _PausingAtClose(weeks._con)
        weeks._con = pausing
        weeks.keep_later(report_id, latest_batch(service.con))
        assert pausing.closed.wait(30)  # made, its cursor closed, the making not yet over
        service.store_weeks.give_way()
        pausing.go.set()
        weeks._maker.join(timeout=30)
        assert service.store_weeks.kept() == [report_id]
    finally:
        weeks._con = getattr(weeks._con, "con", weeks._con)
        service.close()


ZONES = (
    "America/Chicago",
    "America/St_Johns",  # -03:30, and DST
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a half-hour DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Europe/London",
    "UTC",
)


@pytest.fixture(scope="module")
def macros():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    run_all(con, report_files("00", "01"))
    yield con
    con.close()


@settings(max_examples=examples(200), deadline=None)
@given(
    at_us=st.integers(
        min_value=-2_208_988_800_000_000,  # 1900
        max_value=7_258_118_400_000_000,  # 2200
    ),
    zone=st.sampled_from(ZONES),
)
@example(at_us=1_678_604_400_000_000, zone="America/Chicago")  # 2023-03-12 07:00 UTC: 01:00 CST
@example(at_us=1_678_608_000_000_000, zone="America/Chicago")  # an hour on: 03:00 CDT
@example(at_us=-1, zone="Asia/Kathmandu")  # a microsecond before 1970
def test_a_weeks_instants_are_written_in_python_as_the_sql_writes_them(macros, at_us, zone):
    """A store's week writes its polls' and intervals' instants in Python from epoch us and the
    zone's offset (storemon/instants.py); the report's files write theirs in SQL: alike."""
    offset_us, local, utc = macros.execute(
        f"SELECT zone_offset_us($1, $2), local_text($1, $2), "
        f"strftime(make_timestamptz($1), '{ISO}')",
        [at_us, zone],
    ).fetchone()
    assert local_text(at_us, offset_us) == local
    assert iso_us(at_us) == utc == iso(instant_of(at_us))
