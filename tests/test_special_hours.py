"""Special hours (sql/README.md, rule 3a): a case for each sentence of the rule, each checked
against the plain-Python reference too; the file read and refused like the others; a batch
replaces the rows of the (store, date) pairs it names; through the CLI and the API."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from storemon.database import connect
from storemon.ingest import ingest
from storemon.report import run_report
from storemon.snapshots import write_inputs
from tests import reference
from tests.conftest import SPECIAL_HEADER, write_csv
from tests.server import in_process, storemon
from tests.test_live import settled

CHICAGO = "America/Chicago"  # the default zone
NY = "America/New_York"


def local(zone: str, text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def hours_of(text: str | None) -> timedelta | None:
    return reference.clock(text) if text else None


def check(workspace, *, polls, hours=(), special=(), zone=None, as_of: datetime):
    """Load one store "s1" and return its report row (week up, week down), after checking every
    column against the reference."""
    workspace.load(
        status=[("s1", "active" if up else "inactive", at.isoformat()) for at, up in polls],
        hours=[("s1", day, start, end) for day, start, end in hours],
        zones=[("s1", zone)] if zone else [],
        special=[("s1", day, start, end) for day, start, end in special],
    )
    got = workspace.report(as_of=as_of)["s1"]
    expected = reference.report(
        [reference.Poll("s1", at, up) for at, up in polls],
        [reference.Hours("s1", d, reference.clock(s), reference.clock(e)) for d, s, e in hours],
        {"s1": zone} if zone else {},
        as_of,
        [
            reference.Special("s1", date.fromisoformat(day), hours_of(start), hours_of(end))
            for day, start, end in special
        ],
    )["s1"]
    for column, value in expected.items():
        assert got[column] == pytest.approx(value, abs=0.0051), column
    return got["uptime_last_week"], got["downtime_last_week"]


EVERY_DAY_9_TO_5 = [(day, "09:00", "17:00") for day in range(7)]
NOONS = [(local(CHICAGO, f"2023-01-{d:02d} 12:00"), True) for d in (6, 7, 8, 9, 10, 12)]


def test_a_date_of_only_closed_rows_has_no_business_time(workspace):
    # Open 9-5 every day; closed on Wednesday 2023-01-11, when every poll says inactive: those
    # polls say nothing, and the week holds 6 x 8 h of business time, all up.
    wednesday = [(local(CHICAGO, f"2023-01-11 {h:02d}:30"), False) for h in range(9, 17)]
    week = check(
        workspace,
        polls=NOONS + wednesday,
        hours=EVERY_DAY_9_TO_5,
        special=[("2023-01-11", "", "")],
        as_of=local(CHICAGO, "2023-01-12 18:00"),
    )
    assert week == (48.0, 0.0)
    # without the special row, Wednesday is eight more hours, all down
    week = check(
        workspace,
        polls=NOONS + wednesday,
        hours=EVERY_DAY_9_TO_5,
        as_of=local(CHICAGO, "2023-01-12 18:00"),
    )
    assert week == (48.0, 8.0)


def test_special_rows_are_the_only_intervals_starting_on_their_date(workspace):
    # Wednesday 12-14 instead of 9-5: a poll at 10:00 says nothing, the one at 13:00 is down.
    polls = [
        *NOONS,
        (local(CHICAGO, "2023-01-11 10:00"), False),
        (local(CHICAGO, "2023-01-11 13:00"), False),
    ]
    week = check(
        workspace,
        polls=polls,
        hours=EVERY_DAY_9_TO_5,
        special=[("2023-01-11", "12:00", "14:00")],
        as_of=local(CHICAGO, "2023-01-12 18:00"),
    )
    assert week == (48.0, 2.0)


def test_a_weekly_overnight_interval_runs_into_a_special_closed_day(workspace):
    # Tuesdays 20:00-02:00; Wednesday 2023-01-11 closed: Tuesday night still runs to 02:00.
    week = check(
        workspace,
        polls=[(local(CHICAGO, "2023-01-11 01:00"), False)],
        hours=[(1, "20:00", "02:00")],
        special=[("2023-01-11", "", "")],
        as_of=local(CHICAGO, "2023-01-12 00:00"),
    )
    assert week == (0.0, 6.0)


def test_a_special_overnight_interval_runs_into_a_weekly_day(workspace):
    # Thursdays 9-12; Wednesday 2023-01-11 open 20:00-03:00, past midnight into Thursday.
    week = check(
        workspace,
        polls=[
            (local(CHICAGO, "2023-01-12 01:00"), False),
            (local(CHICAGO, "2023-01-12 10:00"), True),
        ],
        hours=[(3, "09:00", "12:00")],
        special=[("2023-01-11", "20:00", "03:00")],
        as_of=local(CHICAGO, "2023-01-12 13:00"),
    )
    assert week == (3.0, 7.0)


def test_a_closed_row_beside_an_interval_row_adds_nothing_and_takes_nothing(workspace):
    week = check(
        workspace,
        polls=[(local(CHICAGO, "2023-01-11 11:00"), False)],
        hours=EVERY_DAY_9_TO_5,
        special=[("2023-01-11", "", ""), ("2023-01-11", "10:00", "12:00")],
        as_of=local(CHICAGO, "2023-01-11 18:00"),
    )
    assert week == (0.0, 6 * 8 + 2.0)


def test_a_store_with_special_rows_and_no_weekly_rows_is_open_24x7_on_other_dates(workspace):
    week = check(
        workspace,
        polls=[(local(CHICAGO, "2023-01-10 12:00"), True)],
        special=[("2023-01-11", "", "")],
        as_of=local(CHICAGO, "2023-01-12 00:00"),
    )
    assert week == (168.0 - 24.0, 0.0)


def test_special_rows_keep_the_rules_of_weekly_rows_end_equal_start_and_2400(workspace):
    # Mondays 9-10; Wednesday 10:00-10:00 (a whole day, to Thursday 10:00), Friday 00:00-24:00.
    week = check(
        workspace,
        polls=[(local(CHICAGO, "2023-01-11 12:00"), True)],
        hours=[(0, "09:00", "10:00")],
        special=[("2023-01-11", "10:00", "10:00"), ("2023-01-13", "00:00", "24:00")],
        as_of=local(CHICAGO, "2023-01-14 00:00"),
    )
    assert week == (1.0 + 24.0 + 24.0, 0.0)


def test_special_rows_on_a_dst_night_follow_the_zone(workspace):
    # New York springs forward at 02:00 on 2023-03-12: 01:00-03:00 that night is one hour.
    week = check(
        workspace,
        polls=[(local(NY, "2023-03-12 01:30"), False)],
        hours=[(day, "09:00", "10:00") for day in range(7)],
        special=[("2023-03-12", "01:00", "03:00")],
        zone=NY,
        as_of=datetime(2023, 3, 12, 12, tzinfo=UTC),
    )
    assert week == (0.0, 7 * 1.0 + 1.0)


def test_special_rows_of_other_weeks_change_nothing(workspace):
    base = check(
        workspace,
        polls=NOONS,
        hours=EVERY_DAY_9_TO_5,
        as_of=local(CHICAGO, "2023-01-12 18:00"),
    )
    far = check(
        workspace,
        polls=NOONS,
        hours=EVERY_DAY_9_TO_5,
        special=[("2022-12-25", "", ""), ("2023-02-14", "18:00", "23:00")],
        as_of=local(CHICAGO, "2023-01-12 18:00"),
    )
    assert far == base == (56.0, 0.0)


# --- reading the file ---------------------------------------------------------------------


def test_the_file_is_read_generously_and_its_unusable_rows_kept_with_line_and_reason(workspace):
    text = (
        "\ufeffStore_ID , local_date,start_time_local,end_time_local\r\n"
        '"s1",2023-01-11,,\r\n'
        "s1,2023-01-12, 10:00 ,14:00\r\n"
        "s2,2023-02-30,10:00,12:00\r\n"
        "s2,2023-01-11,10:00,\r\n"
        "s2,2023-01-12,1000,12:00\r\n"
        "s2,11/01/2023,10:00,12:00\r\n"
    )
    special = workspace.root / "special.csv"
    special.write_bytes(text.encode("utf-8"))
    status, hours, zones = workspace.files(status=[("s1", "active", "2023-01-12 12:00:00")])
    result = ingest(workspace.con, status, hours, zones, allow_empty=True, special_hours=special)
    files = {row.source: row for row in result.files}
    assert (files["special_hours"].data_rows, files["special_hours"].kept_rows) == (6, 2)
    rejected = workspace.query(
        "SELECT line, reason FROM rejected_rows WHERE source = 'special_hours' ORDER BY line"
    )
    assert rejected == [(4, "bad date"), (5, "half an interval"), (6, "bad time"), (7, "bad date")]
    assert workspace.query(
        "SELECT local_date::VARCHAR, start_local::VARCHAR, end_local::VARCHAR FROM special_hours"
    ) == [("2023-01-11", None, None), ("2023-01-12", "10:00:00", "14:00:00")]


def test_a_file_of_utf16_text_is_read_as_the_others_are(workspace):
    special = workspace.root / "special.csv"
    special.write_bytes(
        ",".join(SPECIAL_HEADER).encode("utf-16") + "\r\ns1,2023-01-11,,\r\n".encode("utf-16-le")
    )
    status, hours, zones = workspace.files(status=[("s1", "active", "2023-01-12 12:00:00")])
    ingest(workspace.con, status, hours, zones, allow_empty=True, special_hours=special)
    assert workspace.query("SELECT count(*) FROM special_hours") == [(1,)]


def test_a_load_without_special_hours_has_none_and_does_not_list_the_file(workspace):
    polls = [("s1", "active", "2023-01-12 12:00:00")]
    workspace.load(status=polls, special=[("s1", "2023-01-11", "", "")])
    assert workspace.query("SELECT count(*) FROM special_hours") == [(1,)]
    result = workspace.load(status=polls)
    assert workspace.query("SELECT count(*) FROM special_hours") == [(0,)]
    assert [row.source for row in result.files] == ["polls", "business_hours", "timezones"]


# --- batches ----------------------------------------------------------------------------------


def special_rows(workspace) -> list[tuple]:
    return workspace.query(
        "SELECT store_id, local_date::VARCHAR, start_local::VARCHAR, end_local::VARCHAR "
        "FROM special_hours JOIN stores USING (store_key) ORDER BY ALL"
    )


def test_a_batch_replaces_the_rows_of_each_store_and_date_it_names(workspace):
    workspace.load(
        status=[("s1", "active", "2023-01-12 12:00:00"), ("s2", "active", "2023-01-12 12:00:00")],
        special=[
            ("s1", "2023-01-11", "", ""),
            ("s1", "2023-01-12", "", ""),
            ("s2", "2023-01-11", "", ""),
        ],
    )
    answer = workspace.append("special_hours", [("s1", "2023-01-11", "10:00", "12:00")])
    assert (answer.rows_read, answer.kept) == (1, 1)
    assert special_rows(workspace) == [
        ("s1", "2023-01-11", "10:00:00", "12:00:00"),
        ("s1", "2023-01-12", None, None),
        ("s2", "2023-01-11", None, None),
    ]


def test_batches_in_any_order_equal_one_load(workspace, tmp_path):
    polls = [("s1", "active", "2023-01-12 12:00:00"), ("s1", "inactive", "2023-01-11 12:00:00")]
    hours = [("s1", day, "09:00", "17:00") for day in range(7)]
    first = [("s1", "2023-01-10", "", ""), ("s1", "2023-01-11", "11:00", "13:00")]
    second = [("s1", "2023-01-09", "08:00", "20:00")]
    workspace.load(status=polls, hours=hours, special=first + second)
    once = workspace.report()
    for batches in ([first, second], [second, first]):
        workspace.load(status=polls, hours=hours)
        for batch in batches:
            workspace.append("special_hours", batch)
        assert workspace.report() == once


def test_the_cli_and_the_api_take_special_hours(db, tmp_path):
    batch = write_csv(tmp_path / "holidays.csv", SPECIAL_HEADER, [("s1", "2023-01-11", "", "")])
    printed = storemon("append", "--db", str(db), "--special-hours", str(batch))
    assert re.search(r"special_hours +1 rows kept +0 rejected", printed), printed
    with in_process(db) as server:
        body = b"store_id,date,start_time_local,end_time_local\ns2,2023-01-12,10:00,14:00\n"
        code, _, content = server.request(
            "POST",
            "/special_hours",
            data=body,
            headers={"Content-Type": "text/csv", **server.authorized()},
        )
        assert code == 201, content
        assert json.loads(content)["kept"] == 1
        code, _, content = server.request(
            "POST", "/special_hours", data=body, headers={"Content-Type": "text/csv"}
        )
        assert code == 401


def test_the_drop_folder_knows_a_special_hours_file_by_its_columns(db, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with in_process(db, "--inbox", str(inbox), "--inbox-settle", "0.2"):
        (inbox / "holidays.csv").write_text(
            "store_id,local_date,start_time_local,end_time_local\ns1,2023-01-11,,\n"
        )
        settled(inbox, lambda: any((inbox / "done").glob("*")))
    assert [p.name for p in (inbox / "done").iterdir()] == ["holidays.csv"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM special_hours").fetchone() == (1,)


def test_a_database_loaded_before_special_hours_reports_as_before(db, tmp_path):
    with connect(db) as con:
        run_report(con)
        before = con.execute("SELECT * FROM store_report ORDER BY ALL").fetchall()
        con.execute("DROP TABLE special_hours")
    for read_only in (True, False):  # read-only: an empty view of its own; else: the table
        with connect(db, read_only=read_only) as con:
            run_report(con)
            assert con.execute("SELECT * FROM store_report ORDER BY ALL").fetchall() == before
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM special_hours").fetchone() == (0,)
    # copies of the other tables, none of special_hours (as before storemon kept it), until the
    # service starts on it
    with connect(db) as con:
        write_inputs(con)
    copy = db.parent / "snapshots" / "special_hours.parquet"
    copy.unlink()
    assert (db.parent / "snapshots" / "polls.parquet").exists()
    with in_process(db) as server:  # (the analysts' report views need a finished report)
        assert server.wait(server.trigger())[0] == 200
    with duckdb.connect() as con:
        con.execute("SET VARIABLE storemon_data = ?", [str(db.parent)])
        con.execute((Path(__file__).parents[1] / "sql" / "analyst_views.sql").read_text())
        assert con.execute("SELECT count(*) FROM special_hours").fetchone() == (0,)


def test_data_quality_says_what_special_rows_cannot_mean(workspace):
    polls = [(s, "active", f"2023-01-{d:02d} 12:00:00") for s in ("s1", "s2") for d in (6, 12)]
    workspace.load(
        status=polls,
        hours=[("s1", day, "09:00", "17:00") for day in range(7)],
        special=[
            ("ghost", "2023-01-11", "", ""),  # no polls
            ("s1", "2022-06-01", "", ""),  # far before the first poll
            ("s1", "2023-01-11", "", ""),
            # s2 has no weekly rows and two special days in the latest week: 2 > 0
            ("s2", "2023-01-10", "10:00", "12:00"),
            ("s2", "2023-01-11", "", ""),
        ],
    )
    found = {
        finding: (count, examples)
        for finding, count, examples in workspace.query(
            "SELECT finding, count, examples FROM data_quality WHERE source = 'special_hours'"
        )
    }
    assert found == {
        "special-hours rows of stores without polls": (1, ["ghost"]),
        "special dates far from the polls": (1, ["s1"]),
        "stores with more special than weekly days in the latest week": (1, ["s2"]),
    }


def test_the_report_page_lists_the_stores_that_kept_special_hours(workspace):
    workspace.load(
        status=[
            (s, "active", f"2023-01-{d:02d} 18:00:00")
            for s in ("s1", "s2", "s3")
            for d in range(6, 13)
        ],
        hours=[(s, day, "09:00", "17:00") for s in ("s1", "s2", "s3") for day in range(7)],
        special=[
            ("s1", "2023-01-11", "", ""),
            ("s3", "2023-01-10", "10:00", "12:00"),
            ("s2", "2022-12-25", "", ""),  # before the week: not in this report's note
        ],
    )
    workspace.con.close()
    with in_process(workspace.db) as server:
        report_id = server.trigger("2023-01-12 20:00:00")
        assert server.wait(report_id)[0] == 200
        base = f"/ui/reports/{report_id}"
        code, _, page = server.request("GET", base)
        assert code == 200
        assert b"2 stores: special hours in the week." in page
        assert b"&note=special%20hours%20in%20the%20week" in page
        listed = re.compile(rb'/stores/(s\d)"')
        assert sorted(set(listed.findall(page))) == [b"s1", b"s2", b"s3"]
        code, _, page = server.request("GET", f"{base}?note=special%20hours%20in%20the%20week")
        assert code == 200
        assert sorted(set(listed.findall(page))) == [b"s1", b"s3"]
        assert "2 stores of the note “special hours in the week”".encode() in page
        assert b"These stores are listed below" in page
        # search and sorting keep the note; a note the report does not have lists every store
        code, _, page = server.request(
            "GET", f"{base}?note=special%20hours%20in%20the%20week&q=3&sort=store_id"
        )
        assert sorted(set(listed.findall(page))) == [b"s3"]
        assert b"&note=special%20hours%20in%20the%20week&page=1" in page
        code, _, page = server.request("GET", f"{base}?note=nothing%20like%20it")
        assert code == 200 and sorted(set(listed.findall(page))) == [b"s1", b"s2", b"s3"]
    workspace.con = connect(workspace.db)  # for the fixture to close


def test_a_stores_week_and_page_name_its_special_days(workspace):
    workspace.load(
        status=[("s1", "active", f"2023-01-{d:02d} 18:00:00") for d in range(6, 13)],
        hours=[("s1", day, "09:00", "17:00") for day in range(7)],
        special=[
            ("s1", "2023-01-11", "", ""),
            ("s1", "2023-01-12", "12:00", "14:00"),
            ("s1", "2023-01-12", "08:00", "10:00"),
        ],
    )
    workspace.con.close()
    with in_process(workspace.db) as server:
        report_id = server.trigger("2023-01-12 20:00:00")
        assert server.wait(report_id)[0] == 200
        code, week = server.json("GET", f"/reports/{report_id}/stores/s1")
        assert code == 200, week
        assert week["special_days"] == [
            {"date": "2023-01-11", "closed": True, "hours": []},
            {"date": "2023-01-12", "closed": False, "hours": ["08:00-10:00", "12:00-14:00"]},
        ]
        code, _, page = server.request("GET", f"/ui/reports/{report_id}/stores/s1")
        assert code == 200
        assert b"<b>2023-01-11</b>: closed all day (special hours)" in page
        assert b"open 08:00-10:00, 12:00-14:00 only (special hours)" in page
        # the timeline bands each special date over its local day (America/Chicago, the
        # default zone: 06:00 UTC to 06:00 UTC) in a week from 2023-01-05 20:00 UTC: 130 h in
        # of 168 to 154 h in, on a drawing 944 units wide from x = 8
        band = re.search(
            rb'<g class="special closed" data-date="2023-01-11"><title>([^<]*)</title>'
            rb'<rect x="([\d.]+)" y="14" width="([\d.]+)"[^>]*/><text[^>]*>([^<]*)</text></g>',
            page,
        )
        assert band is not None, page
        assert band[1] == b"Wed 11 Jan: closed all day (special hours, not the weekly ones)"
        left, width = float(band[2]), float(band[3])
        assert left == pytest.approx(8 + 944 * 130 / 168, abs=0.05)
        assert left + width == pytest.approx(8 + 944 * 154 / 168, abs=0.1)
        assert band[4] == b"closed: special hours"
        assert b"<title>Thu 12 Jan: open 08:00-10:00, 12:00-14:00 only (special hours" in page
        code, _, page = server.request("GET", f"/ui/reports/{report_id}")
        assert code == 200
        assert b"1 stores: special hours in the week." in page
    workspace.con = connect(workspace.db)  # for the fixture to close


def test_analysts_read_the_special_hours_without_the_database(workspace):
    workspace.load(
        status=[("s1", "active", "2023-01-12 12:00:00")],
        special=[("s1", "2023-01-11", "", ""), ("s1", "2023-01-12", "10:00", "14:00")],
    )
    views = (Path(__file__).resolve().parent.parent / "sql" / "analyst_views.sql").read_text()
    with duckdb.connect() as con:
        con.execute("SET VARIABLE storemon_data = ?", [str(workspace.root)])
        # the file's macro and the views of the loaded data (the report views need a report)
        for statement in con.extract_statements(views):
            text = str(statement.query)
            if "MACRO storemon_file" in text or "VIEW stores " in text or "special_hours" in text:
                con.execute(statement)
        rows = con.execute(
            "SELECT store_id, local_date::VARCHAR, start_local::VARCHAR FROM special_hours "
            "ORDER BY ALL"
        ).fetchall()
    assert rows == [("s1", "2023-01-11", None), ("s1", "2023-01-12", "10:00:00")]


def test_the_report_names_the_stores_with_special_hours_in_its_week(workspace):
    workspace.load(
        status=[(s, "active", "2023-01-12 12:00:00") for s in ("s1", "s2", "s3")],
        special=[
            ("s1", "2023-01-11", "", ""),  # in the week
            ("s2", "2022-12-25", "", ""),  # weeks before
            ("s3", "2023-01-12", "10:00", "14:00"),  # today, in the store's zone
        ],
    )
    workspace.report()
    assert workspace.notes()["special hours in the week"] == (2, ["s1", "s3"])
