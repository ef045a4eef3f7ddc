"""The loader: every accepted spelling, every rejection reason, and all-or-nothing loads."""

from __future__ import annotations

import re
import tempfile
import time
import zoneinfo
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storemon import zones
from storemon.database import run_sql_files, sql_files
from storemon.errors import StoremonError
from storemon.ingest import ingest
from storemon.zones import iana_names, zone_of
from tests import reference
from tests.conftest import examples, load_rows, write_csv


def rejected(workspace) -> list[tuple]:
    return workspace.query(
        "SELECT source, line, raw, reason FROM rejected_rows ORDER BY source, line"
    )


def polls(workspace) -> list[tuple]:
    return workspace.query(
        "SELECT store_id, strftime(timestamp_utc, '%Y-%m-%d %H:%M:%S.%f'), active "
        "FROM polls JOIN stores USING (store_key) ORDER BY ALL"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-01-22 12:09:39.388884 UTC", "2023-01-22 12:09:39.388884"),
        ("2023-01-22 12:09:39 UTC", "2023-01-22 12:09:39.000000"),
        ("2023-01-22 12:09:39.1 UTC", "2023-01-22 12:09:39.100000"),
        ("2023-01-22 12:09:39.123456789 UTC", "2023-01-22 12:09:39.123456"),  # kept to the µs
        ("2023-01-22 12:09:39Z", "2023-01-22 12:09:39.000000"),
        ("2023-01-22T12:09:39.5Z", "2023-01-22 12:09:39.500000"),
        ("2023-01-22 12:09:39+00:00", "2023-01-22 12:09:39.000000"),
        ("2023-01-22 12:09:39", "2023-01-22 12:09:39.000000"),
        ("  2023-01-22 12:09:39 UTC  ", "2023-01-22 12:09:39.000000"),
        # spellings DuckDB's cast does not read, taken by the second try
        ("2023-01-22 12:09:39UTC", "2023-01-22 12:09:39.000000"),
        ("2023-01-22 12:09:39.25 utc", "2023-01-22 12:09:39.250000"),
        ("2023-01-22 12:09:39z", "2023-01-22 12:09:39.000000"),
        ("2023-01-22 12:09:39+0000", "2023-01-22 12:09:39.000000"),
        ("\t2023-01-22 12:09:39.999999999Z\t", "2023-01-22 12:09:39.999999"),
    ],
)
def test_timestamp_spellings(workspace, text, expected):
    workspace.load(status=[("s1", "active", text)])
    assert polls(workspace) == [("s1", expected, True)]
    assert rejected(workspace) == []


@pytest.mark.parametrize(
    "text",
    [
        "2023-01-22 12:09:39+05:00",
        "2023-01-22 12:09:39 EST",
        "2023-01-22 12:09",
        "2023-1-22 12:09:39",
    ],
)
def test_timestamps_not_in_the_format_are_rejected(workspace, text):
    workspace.load(status=[("s1", "active", text)])
    assert polls(workspace) == []
    assert [row[3] for row in rejected(workspace)] == ["bad timestamp"]


def test_loading_does_not_depend_on_the_session_time_zone(workspace):
    """An analyst's duckdb shell runs in the machine's zone; the instants must not move."""
    workspace.con.execute("SET TimeZone = 'Asia/Kolkata'")
    workspace.load(
        status=[("s1", "active", "2023-01-22 12:09:39"), ("s1", "active", "2023-01-22 13:00:00Z")]
    )
    workspace.con.execute("SET TimeZone = 'UTC'")
    assert polls(workspace) == [
        ("s1", "2023-01-22 12:09:39.000000", True),
        ("s1", "2023-01-22 13:00:00.000000", True),
    ]


@pytest.mark.parametrize("text", ["active", "ACTIVE", " Active ", "\tactive"])
def test_status_in_any_case_with_blanks(workspace, text):
    workspace.load(status=[("s1", text, "2023-01-22 12:00:00")])
    assert polls(workspace)[0][2] is True


def test_columns_in_any_order_with_extra_columns_and_day_spelled_day(workspace):
    status, hours, zones = workspace.files(
        status=[("x", "2023-01-22 12:00:00 UTC", "s1", "inactive")],
        hours=[("17:00", "s1", "09:00", "2")],
        zones=[("America/Denver", "s1")],
        headers=(
            ("extra", "timestamp_utc", "store_id", "status"),
            ("end_time_local", "store_id", "start_time_local", "day"),
            ("timezone_str", "store_id"),
        ),
    )
    ingest(workspace.con, status, hours, zones)
    assert polls(workspace) == [("s1", "2023-01-22 12:00:00.000000", False)]
    assert workspace.query(
        "SELECT day_of_week, start_local::VARCHAR, end_local::VARCHAR FROM business_hours"
    ) == [(2, "09:00:00", "17:00:00")]
    assert workspace.query("SELECT timezone FROM store_timezones") == [("America/Denver",)]


def test_header_names_ignore_case_and_blanks_and_a_byte_order_mark(workspace):
    status, hours, zones = workspace.files(
        status=[("s1", "active", "2023-01-22 12:00:00")],
        headers=(
            ("\ufeffStore_ID", " STATUS ", "Timestamp_UTC"),
            ("store_id", "DAYOFWEEK", "start_time_local", "end_time_local"),
            ("store_id", "timezone_str"),
        ),
    )
    status.write_bytes(status.read_text().encode("utf-8"))
    ingest(workspace.con, status, hours, zones, allow_empty=True)
    assert len(polls(workspace)) == 1


def test_store_ids_survive_byte_for_byte(workspace):
    ids = [
        "1481966498820158979",
        "9223372036854775808",
        "0000000000000000001",
        "8c5f2a3e-4a0b-4b7e-9d35-0ad6b3e1f2aa",
        "store with spaces inside",
    ]
    workspace.load(
        status=[(i, "active", "2023-01-22 12:00:00") for i in ids],
        zones=[(i, "UTC") for i in ids],
    )
    assert sorted(row[0] for row in polls(workspace)) == sorted(ids)
    assert sorted(workspace.report()) == sorted(ids)


def test_time_spellings(workspace):
    workspace.load(
        status=[("s1", "active", "2023-01-22 12:00:00")],
        hours=[
            ("s1", 0, "9:00", "17:30:15"),
            ("s1", 1, "09:00:00.5", "24:00"),
            ("s1", 2, " 08:00 ", "24:00:00"),
        ],
    )
    assert workspace.query(
        "SELECT day_of_week, start_local::VARCHAR, end_local::VARCHAR FROM business_hours "
        "ORDER BY 1"
    ) == [(0, "09:00:00", "17:30:15"), (1, "09:00:00.5", "24:00:00"), (2, "08:00:00", "24:00:00")]


def test_time_zone_names_match_without_case(workspace):
    workspace.load(
        status=[("s1", "active", "2023-01-22 12:00:00")], zones=[("s1", "america/new_york")]
    )
    assert workspace.query("SELECT timezone FROM store_timezones") == [("America/New_York",)]


def test_quoted_fields_crlf_and_blank_lines(workspace):
    root = workspace.root
    (root / "s.csv").write_bytes(
        b'store_id,status,timestamp_utc\r\n"s1","active","2023-01-22 12:00:00 UTC"\r\n\r\n'
        b'"s,2",inactive,2023-01-22 13:00:00\r\n"s""3",active,2023-01-22 14:00:00\r\n'
    )
    _, hours, zones = workspace.files()
    result = ingest(workspace.con, root / "s.csv", hours, zones, allow_empty=True)
    assert polls(workspace) == [
        ('s"3', "2023-01-22 14:00:00.000000", True),
        ("s,2", "2023-01-22 13:00:00.000000", False),
        ("s1", "2023-01-22 12:00:00.000000", True),
    ]
    assert load_rows(result)[0][2:] == (3, 3, 0, 0)


def test_every_rejection_reason_is_kept_with_file_line_and_raw_text(workspace):
    result = workspace.load(
        status=[
            ("s1", "active", "2023-01-22 12:00:00"),  # line 2: fine
            ("s1", "active", "2023-02-30 12:00:00"),  # 3: no such date
            ("s1", "active", "2023-01-22 12:00:00+05:00"),  # 4: not UTC
            ("s1", "active", "22/01/2023 12:00"),  # 5: not the format
            ("s1", "online", "2023-01-22 12:00:00"),  # 6: unknown status
            ("", "active", "2023-01-22 12:00:00"),  # 7: missing store_id
            ("s1", "active"),  # 8: too few fields
            ("s1", "active", "2023-01-22 12:00:00", "x"),  # 9: too many fields
        ],
        hours=[
            ("s1", 0, "09:00", "17:00"),  # 2: fine
            ("s1", 7, "09:00", "17:00"),  # 3
            ("s1", -1, "09:00", "17:00"),  # 4
            ("s1", "Mon", "09:00", "17:00"),  # 5
            ("s1", "1.0", "09:00", "17:00"),  # 6
            ("s1", 1, "25:00", "17:00"),  # 7
            ("s1", 1, "9am", "17:00"),  # 8
            ("s1", 1, "24:00", "17:00"),  # 9: 24:00 only ends a day
            ("s1", 1, "09:00", ""),  # 10
            (" ", 1, "09:00", "17:00"),  # 11
        ],
        zones=[("s1", "Mars/Olympus_Mons"), ("s2", "America/Chicago"), ("s2", "America/Denver")],
    )
    assert rejected(workspace) == [
        ("business_hours", 3, "s1,7,09:00,17:00", "day outside 0-6"),
        ("business_hours", 4, "s1,-1,09:00,17:00", "day outside 0-6"),
        ("business_hours", 5, "s1,Mon,09:00,17:00", "day outside 0-6"),
        ("business_hours", 6, "s1,1.0,09:00,17:00", "day outside 0-6"),
        ("business_hours", 7, "s1,1,25:00,17:00", "bad time"),
        ("business_hours", 8, "s1,1,9am,17:00", "bad time"),
        ("business_hours", 9, "s1,1,24:00,17:00", "bad time"),
        ("business_hours", 10, "s1,1,09:00,", "bad time"),
        ("business_hours", 11, " ,1,09:00,17:00", "missing store_id"),
        ("polls", 3, "s1,active,2023-02-30 12:00:00", "bad timestamp"),
        ("polls", 4, "s1,active,2023-01-22 12:00:00+05:00", "bad timestamp"),
        ("polls", 5, "s1,active,22/01/2023 12:00", "bad timestamp"),
        ("polls", 6, "s1,online,2023-01-22 12:00:00", "unknown status"),
        ("polls", 7, ",active,2023-01-22 12:00:00", "missing store_id"),
        ("polls", 8, "s1,active", "wrong number of fields"),
        ("polls", 9, "s1,active,2023-01-22 12:00:00,x", "wrong number of fields"),
        ("timezones", 2, "s1,Mars/Olympus_Mons", "unknown time zone"),
        ("timezones", 3, "s2,America/Chicago", "conflicting time zones"),
        ("timezones", 4, "s2,America/Denver", "conflicting time zones"),
    ]
    assert len(polls(workspace)) == 1
    assert workspace.query("SELECT count(*) FROM business_hours") == [(1,)]
    assert workspace.query("SELECT count(*) FROM store_timezones") == [(0,)]
    assert ("polls", "bad timestamp", 3) in [(r.source, r.reason, r.rows) for r in result.rejected]
    # Every rejected row says what was wrong and what would be right.
    details = dict(workspace.query("SELECT line, detail FROM rejected_rows WHERE source = 'polls'"))
    assert "2023-02-30 12:00:00" in details[3] and "YYYY-MM-DD HH:MM:SS" in details[3]
    assert '"online"' in details[6]


def test_a_poll_dated_more_than_5_minutes_after_the_load_is_rejected(workspace):
    """sql/README.md, the load: a poll from the future (here 2100) would stretch every report
    to it."""
    soon = (datetime.now(UTC) + timedelta(minutes=4)).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    result = workspace.load(
        status=[
            ("s1", "active", "2023-01-22 12:00:00"),  # line 2: fine
            ("s1", "active", "2100-01-01 00:00:00 UTC"),  # 3: in the future
            ("s2", "inactive", soon),  # 4: 4 minutes ahead of the clock: kept
        ]
    )
    assert rejected(workspace) == [
        ("polls", 3, "s1,active,2100-01-01 00:00:00 UTC", "timestamp in the future")
    ]
    [(detail,)] = workspace.query("SELECT detail FROM rejected_rows")
    assert "2100-01-01 00:00:00 UTC" in detail and "more than 5 minutes after" in detail
    [why] = result.rejected
    assert (why.source, why.reason, why.rows) == ("polls", "timestamp in the future", 1)
    assert why.line == 3
    assert [row[0] for row in polls(workspace)] == ["s1", "s2"]
    assert workspace.query("SELECT max(timestamp_utc) > now() FROM polls") == [(True,)]


def test_a_quote_that_never_closes_is_rejected(workspace):
    root = workspace.root
    (root / "s.csv").write_text('store_id,status,timestamp_utc\n"s1,active,2023-01-22 12:00:00\n')
    _, hours, zones = workspace.files()
    ingest(workspace.con, root / "s.csv", hours, zones, allow_empty=True)
    assert rejected(workspace) == [("polls", 2, '"s1,active,2023-01-22 12:00:00', "malformed CSV")]


def test_line_numbers_hold_across_a_large_file(workspace):
    # Large enough for DuckDB to read in several parallel chunks.
    rows = [("s1", "active", f"2023-01-22 12:00:{i % 60:02}.{i:06d}") for i in range(300_000)]
    for line in (2, 123_457, 250_001):
        rows[line - 2] = ("s1", "broken", f"line {line}")
    workspace.load(status=rows)
    assert [(line, raw) for _, line, raw, _ in rejected(workspace)] == [
        (2, "s1,broken,line 2"),
        (123_457, "s1,broken,line 123457"),
        (250_001, "s1,broken,line 250001"),
    ]


def test_identical_rows_count_once_everywhere(workspace):
    result = workspace.load(
        status=[("s1", "active", "2023-01-22 12:00:00")] * 3,
        hours=[("s1", 0, "09:00", "17:00"), ("s1", "0", "09:00:00", "17:00")],
        zones=[("s1", "UTC"), ("s1", "utc")],
    )
    assert [row[3:] for row in load_rows(result)] == [(1, 2, 0), (1, 1, 0), (1, 1, 0)]


def test_loading_the_same_files_twice_gives_the_same_tables(workspace):
    files = workspace.files(
        status=[("s1", "active", "2023-01-22 12:00:00"), ("s2", "oops", "x")],
        hours=[("s1", 0, "09:00", "17:00")],
        zones=[("s1", "UTC")],
    )
    tables = ["stores", "polls", "business_hours", "store_timezones", "rejected_rows"]

    def snapshot():
        return {
            # every column but the id each load gets
            t: workspace.query(
                f"SELECT COLUMNS(lambda c: c <> 'batch_id')::VARCHAR FROM {t} ORDER BY ALL"
            )
            for t in tables
        }

    ingest(workspace.con, *files)
    first = snapshot()
    ingest(workspace.con, *files)
    assert snapshot() == first


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        ("missing", "no such file"),
        ("empty", "is empty"),
        ("no_column", "has no column 'timestamp_utc'"),
        ("not_utf8", "line 3 of"),
    ],
)
def test_a_bad_file_fails_clearly_and_changes_nothing(workspace, breakage, message):
    workspace.load(status=[("s1", "active", "2023-01-22 12:00:00")], zones=[("s1", "UTC")])
    before = polls(workspace)
    status, hours, zones = workspace.files(status=[("s2", "active", "2023-01-23 12:00:00")])
    if breakage == "missing":
        status.unlink()
    elif breakage == "empty":
        status.write_text("")
    elif breakage == "no_column":
        write_csv(status, ("store_id", "status", "time"), [("s2", "active", "2023-01-23 12:00:00")])
    else:
        status.write_bytes(
            b"store_id,status,timestamp_utc\ns2,active,2023-01-23 12:00:00\ns2,\xff\n"
        )
    with pytest.raises(StoremonError, match=message) as caught:
        ingest(workspace.con, status, hours, zones, allow_empty=True)
    assert str(status) in str(caught.value)
    assert polls(workspace) == before
    assert workspace.query("SELECT timezone FROM store_timezones") == [("UTC",)]


# --- files from the wild (issue 10): accepted -------------------------------------------


@pytest.mark.parametrize("day", ["day_of_week", "weekday", "Day_Of_Week", "dayOfWeek", "day"])
def test_every_spelling_of_the_day_column_with_crlf(workspace, day):
    status, hours, zones = workspace.files(status=[("s1", "active", "2023-01-22 12:00:00")])
    hours.write_bytes(
        f"store_id,{day},start_time_local,end_time_local\r\ns1,2,09:00,17:00\r\n"
        "s1,3,10:00,18:00\r\n".encode()
    )
    ingest(workspace.con, status, hours, zones, allow_empty=True)
    assert workspace.query(
        "SELECT day_of_week, start_local::VARCHAR, end_local::VARCHAR FROM business_hours"
    ) == [(2, "09:00:00", "17:00:00"), (3, "10:00:00", "18:00:00")]
    assert rejected(workspace) == []


def test_a_missing_column_lists_its_accepted_names_and_the_closest_header(workspace):
    status, hours, zones = workspace.files(
        status=[("s1", "active", "2023-01-22 12:00:00")], hours=[("s1", 0, "09:00", "17:00")]
    )
    write_csv(hours, ("store_id", "day_of_wk", "start_time_local", "end_time_local"), [])
    with pytest.raises(StoremonError) as caught:
        ingest(workspace.con, status, hours, zones)
    assert str(caught.value) == (
        f"business hours (menu_hours.csv): {hours} has no column 'dayOfWeek' (also accepted: "
        "'day', 'day_of_week' or 'weekday'); did you mean 'day_of_wk'? (line 1 has: "
        "'store_id', 'day_of_wk', 'start_time_local', 'end_time_local')"
    )
    write_csv(status, ("store_id", "Status", "timestamp"), [("s1", "active", "x")])
    with pytest.raises(
        StoremonError, match="has no column 'timestamp_utc'; did you mean 'timestamp'"
    ):
        ingest(workspace.con, status, hours, zones)
    # The service's callers may not read the file: its header is never quoted to them.
    with pytest.raises(StoremonError) as caught:
        ingest(workspace.con, status, hours, zones, quote_files=False)
    assert str(caught.value) == (
        f"polls (store_status.csv): {status} has no column 'timestamp_utc'"
    )


@pytest.mark.parametrize(
    ("which", "header", "message"),
    [
        (
            "status",
            ("store_id", "status", "timestamp_utc", "STATUS "),
            "names the column 'status' more than once: 'status' (field 2) and 'status' (field 4)",
        ),
        (
            "hours",
            ("store_id", "day", "start_time_local", "end_time_local", "dayOfWeek"),
            "names the column 'dayOfWeek' more than once: 'day' (field 2) and 'dayOfWeek' "
            "(field 5)",
        ),
    ],
)
def test_a_column_named_twice_is_refused_and_changes_nothing(workspace, which, header, message):
    workspace.load(status=[("s1", "active", "2023-01-22 12:00:00")])
    status, hours, zones = workspace.files(status=[("s2", "active", "2023-01-23 12:00:00")])
    row = (
        ("s2", "active", "2023-01-23 12:00:00", "inactive")
        if which == "status"
        else (("s2", 1, "09:00", "17:00", 2))
    )
    write_csv(status if which == "status" else hours, header, [row])
    for quote_files in (True, False):
        with pytest.raises(StoremonError, match=re.escape(message)):
            ingest(workspace.con, status, hours, zones, quote_files=quote_files, allow_empty=True)
    assert [row[0] for row in polls(workspace)] == ["s1"]


@pytest.mark.parametrize(
    ("name", "said"),
    [("x" * 300 + ".csv", "cannot be opened: File name too long"), ("a\x00b.csv", "no such file")],
)
def test_a_file_name_the_system_cannot_take_is_named_not_a_crash(workspace, name, said):
    # (the service's POST /ingest passes such names on from its callers)
    _, hours, zones = workspace.files()
    with pytest.raises(StoremonError, match=f"^polls .*{said}"):
        ingest(workspace.con, workspace.root / name, hours, zones)


def test_every_zone_name_duckdb_knows_is_taken_only_if_python_knows_it_too(workspace):
    # One authority for a zone (storemon/zones.py): an IANA name both engines know. Every name
    # DuckDB's ICU takes, as a store's zone: those of the IANA database load, and their local
    # times in the SQL are Python's; the others (CST, PST, IST, SystemV/AST4, US/Pacific-New,
    # ...) are rejected as unknown, saying they are abbreviations or retired names.
    names = [row[0] for row in workspace.query("SELECT name FROM pg_timezone_names() ORDER BY 1")]
    ids = {name: f"s{n:04d}" for n, name in enumerate(names)}
    result = workspace.load(
        status=[(i, "active", "2023-01-22 12:00:00") for i in ids.values()],
        zones=[(i, name) for name, i in ids.items()],
    )
    iana = zoneinfo.available_timezones()
    taken = dict(
        workspace.query(
            "SELECT store_id, timezone FROM store_timezones JOIN stores USING (store_key)"
        )
    )
    assert {name for name in names if ids[name] in taken} == {n for n in names if n in iana}
    assert {taken[ids[n]] for n in names if ids[n] in taken} == {n for n in names if n in iana}
    rejected_names = sorted(set(names) - iana)
    assert len(rejected_names) >= 40 and {"CST", "IST", "SystemV/AST4", "US/Pacific-New"} <= set(
        rejected_names
    )
    details = dict(workspace.query("SELECT raw, detail FROM rejected_rows"))
    for name in rejected_names:
        assert "abbreviation or a retired name" in details[f"{ids[name]},{name}"], name
    assert [(r.reason, r.rows) for r in result.rejected] == [
        ("unknown time zone", len(rejected_names))
    ]
    # The SQL's local time (ICU) and Python's (zoneinfo) agree for every zone taken.
    for _ in run_sql_files(workspace.con, sql_files("report")[:1]):  # the report's macros
        pass
    instants = [datetime(2023, month, 15, 12, tzinfo=UTC) for month in (1, 7)]
    for zone in sorted(taken.values()):
        for moment in instants:
            [(text,)] = workspace.query(
                "SELECT local_text(?, ?)", [int(moment.timestamp()) * 10**6, zone]
            )
            assert text == reference.local_text(int(moment.timestamp()) * 10**6, zone), zone


def test_a_header_only_file_is_refused_unless_allowed(workspace):
    workspace.load(status=[("s1", "active", "2023-01-22 12:00:00")], zones=[("s1", "UTC")])
    status, hours, zones = workspace.files(
        hours=[("s1", 0, "09:00", "17:00")], zones=[("s1", "UTC")]
    )
    status.write_bytes(b"store_id,status,timestamp_utc\r\n\r\n  \r\n")  # blank lines are not rows
    with pytest.raises(StoremonError) as caught:
        ingest(workspace.con, status, hours, zones)
    assert str(caught.value) == (
        f"polls (store_status.csv): {status} has a header and no rows: nothing was loaded; "
        "pass --allow-empty to load it anyway"
    )
    assert [row[0] for row in polls(workspace)] == ["s1"]
    assert workspace.query("SELECT count(*) FROM business_hours") == [(0,)]
    result = ingest(workspace.con, status, hours, zones, allow_empty=True)
    assert polls(workspace) == []
    assert load_rows(result)[0][2:] == (0, 0, 0, 0)


# Files with rows of which none is usable, as they come from the world: a placeholder, hours a
# spreadsheet turned into `0.00.00`, zones of another naming, ids broken by control characters.
NOTHING_USABLE = {
    "a placeholder": (
        "status",
        b"store_id,status,timestamp_utc\n\n### this is dummy file\n",
        "polls (store_status.csv): {file} has 1 row and none of them is usable: 1 x wrong number "
        'of fields (e.g. line 3: "### this is dummy file": expected 3 fields as in the header, '
        "found 1)",
    ),
    "times damaged by a spreadsheet": (
        "hours",
        b"store_id,dayOfWeek,start_time_local,end_time_local\n"
        + b"".join(b"s%d,%d,0.00.00,0.00.00\n" % (n, n % 7) for n in range(99)),
        "business hours (menu_hours.csv): {file} has 99 rows and none of them is usable: 99 x "
        'bad time (e.g. line 2: start "0.00.00" / end "0.00.00": times are HH:MM or '
        "HH:MM:SS[.ffffff], start before 24:00)",
    ),
    "two reasons": (
        "zones",
        b"store_id,timezone_str\ns1,Mars/Olympus\ns2,Venus/Maxwell\n,UTC\n",
        "time zones (timezones.csv): {file} has 3 rows and none of them is usable: 2 x unknown "
        'time zone (e.g. line 2: "Mars/Olympus" is not an IANA time zone name (e.g. '
        "America/New_York)), and 1 other rejected rows",
    ),
    "control characters in every id": (
        "status",
        b"store_id,status,timestamp_utc\ns\x01,active,2023-01-22 12:00:00\n",
        "polls (store_status.csv): {file} has 1 row and none of them is usable: 1 x store_id has "
        'control characters (e.g. line 2: store_id "s\\x01" has control characters',
    ),
}


@pytest.mark.parametrize("case", NOTHING_USABLE)
def test_a_file_with_rows_none_of_them_usable_is_refused_unless_allowed(workspace, case):
    which, content, message = NOTHING_USABLE[case]
    workspace.load(
        status=[("s1", "active", "2023-01-22 12:00:00")],
        hours=[("s1", 0, "09:00", "17:00")],
        zones=[("s1", "UTC")],
    )
    before = workspace.tables()
    files = dict(
        zip(
            ("status", "hours", "zones"),
            workspace.files(
                status=[("s2", "active", "2023-01-23 12:00:00")],
                hours=[("s2", 0, "09:00", "17:00")],
                zones=[("s2", "UTC")],
            ),
            strict=True,
        )
    )
    files[which].write_bytes(content)
    with pytest.raises(StoremonError) as caught:
        ingest(workspace.con, *files.values())
    expected = message.format(file=files[which])
    assert str(caught.value).startswith(expected), str(caught.value)
    assert str(caught.value).endswith(
        "nothing was loaded (the previous data stays). Fix the file, or pass --allow-empty "
        "(API: allow_empty) to use it anyway"
    )
    assert workspace.tables() == before
    # The service's callers may not read a file on its machine: the line, never the value.
    with pytest.raises(StoremonError) as caught:
        ingest(workspace.con, *files.values(), quote_files=False)
    assert "(e.g. line " in str(caught.value) and '"' not in str(caught.value).split("e.g.")[1]
    assert workspace.tables() == before
    result = ingest(workspace.con, *files.values(), allow_empty=True)
    assert sum(row[5] for row in load_rows(result)) >= 1
    assert workspace.tables() != before


# Rows of each input as files from the world have them: usable, and unusable for every reason
# the parsing knows.
ROWS = {
    "status": (
        ["s1,active,2023-01-22 12:00:00", "s2,INACTIVE ,2023-01-22T12:00:00Z"],
        [
            "s1,online,2023-01-22 12:00:00",
            "s1,active,22/01/2023",
            ",active,2023-01-22 12:00:00",
            "s1,active",
            "### a note",
            's1,"active,2023-01-22',
            "s1,active,2100-01-01 00:00:00",
            "s\x01,active,2023-01-22 12:00:00",
            "s" * 513 + ",active,2023-01-22 12:00:00",
        ],
    ),
    "hours": (
        ["s1,0,09:00,17:00", "s2,6,22:00,02:00"],
        ["s1,7,09:00,17:00", "s1,0,0.00.00,0.00.00", "s1,0,9am,5pm", ",0,09:00,17:00", "s1,0"],
    ),
    "zones": (
        ["s1,America/Chicago", "s2,utc"],
        ["s1,CST", "s1,Mars/Olympus", ",UTC", "s1"],
    ),
}
HEADERS = {
    "status": "store_id,status,timestamp_utc",
    "hours": "store_id,dayOfWeek,start_time_local,end_time_local",
    "zones": "store_id,timezone_str",
}


@settings(
    max_examples=examples(15),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data(), which=st.sampled_from(list(ROWS)))
def test_a_file_is_refused_exactly_when_it_has_rows_and_none_is_usable(workspace, data, which):
    good, bad = ROWS[which]
    lines = data.draw(
        st.lists(st.sampled_from(good + bad), min_size=1, max_size=8).flatmap(
            lambda rows: st.permutations(rows)
        )
    )
    files = dict(
        zip(
            HEADERS,
            workspace.files(
                status=[("s1", "active", "2023-01-22 12:00:00")],
                hours=[("s1", 0, "09:00", "17:00")],
                zones=[("s1", "UTC")],
            ),
            strict=True,
        )
    )
    files[which].write_text("\n".join([HEADERS[which], *lines]) + "\n")
    if any(line in good for line in lines):
        ingest(workspace.con, *files.values())
        return
    with pytest.raises(StoremonError, match=r"rows? and none of them is usable: "):
        ingest(workspace.con, *files.values())
    ingest(workspace.con, *files.values(), allow_empty=True)


def test_the_load_says_one_example_per_reason_it_rejected(workspace):
    result = workspace.load(
        status=[
            ("s1", "active", "2023-01-22 12:00:00"),
            ("s1", "up", "2023-01-22 13:00:00"),
            ("s1", "down", "2023-01-22 14:00:00"),
            ("s1", "active", "yesterday"),
        ],
    )
    assert [(r.reason, r.rows, r.example()) for r in result.rejected] == [
        (
            "bad timestamp",
            1,
            'line 5: timestamp_utc "yesterday" is not YYYY-MM-DD HH:MM:SS[.ffffff] '
            "in UTC (suffix UTC, Z, +00:00 or none)",
        ),
        ("unknown status", 2, 'line 3: status "up" is neither active nor inactive'),
    ]


def test_a_store_id_with_control_characters_is_rejected_in_every_input(workspace):
    root = workspace.root
    (root / "s.csv").write_bytes(
        b"store_id,status,timestamp_utc\n"
        b"s1,active,2023-01-22 12:00:00\n"
        b"s\x002,active,2023-01-22 12:00:00\n"  # line 3: a NUL inside
        b'"s3 ",inactive,2023-01-22 12:00:00\n'  # blanks around: trimmed, as before
        b"\ts4\t,active,2023-01-22 12:00:00\n"
        b"s\x7f5,active,2023-01-22 12:00:00\n"  # line 6: DEL
    )
    (root / "h.csv").write_bytes(
        b"store_id,dayOfWeek,start_time_local,end_time_local\n"
        b"s1,0,09:00,17:00\n"
        b"s\x01,0,09:00,17:00\n"  # line 3
    )
    (root / "z.csv").write_bytes(
        b'store_id,timezone_str\ns1,UTC\n"s\t1",UTC\n'  # line 3: a tab inside
    )
    result = ingest(workspace.con, root / "s.csv", root / "h.csv", root / "z.csv")
    reason = "store_id has control characters"
    assert rejected(workspace) == [
        ("business_hours", 3, "s\x01,0,09:00,17:00", reason),
        ("polls", 3, "s\x002,active,2023-01-22 12:00:00", reason),
        ("polls", 6, "s\x7f5,active,2023-01-22 12:00:00", reason),
        ("timezones", 3, '"s\t1",UTC', reason),
    ]
    details = workspace.query("SELECT line, detail FROM rejected_rows ORDER BY source, line")
    assert [detail.split(" has ")[0] for _, detail in details] == [
        r'store_id "s\x01"',
        r'store_id "s\x002"',
        r'store_id "s\x7f5"',
        r'store_id "s\x091"',
    ]
    assert workspace.query("SELECT store_id FROM stores") == [("s1",), ("s3",), ("s4",)]
    assert [row[3:] for row in load_rows(result)] == [(3, 0, 2), (1, 0, 1), (1, 0, 1)]
    assert ("polls", reason, 2) in [(r.source, r.reason, r.rows) for r in result.rejected]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_quoted_field_with_line_breaks_is_one_record(workspace, newline):
    root = workspace.root
    lines = [
        "store_id,status,timestamp_utc,note",
        's1,active,2023-01-22 12:00:00,"first line',  # 2: a record of lines 2-5
        "",  # a blank line inside the quotes is part of the note
        'second, with ""quotes""',
        'last"',
        "s2,inactive,2023-01-22 13:00:00,plain",  # 6
        's3,online,2023-01-22 14:00:00,"two',  # 7: a record of lines 7-8, rejected as a whole
        'lines"',
        "s4,active,2023-01-22 15:00:00,x",  # 9
        "s5,broken,x,y",  # 10
    ]
    (root / "s.csv").write_bytes(newline.join([*lines, ""]).encode())
    _, hours, zones = workspace.files()
    result = ingest(workspace.con, root / "s.csv", hours, zones, allow_empty=True)
    assert [row[0] for row in polls(workspace)] == ["s1", "s2", "s4"]
    assert rejected(workspace) == [
        ("polls", 7, f's3,online,2023-01-22 14:00:00,"two{newline}lines"', "unknown status"),
        ("polls", 10, "s5,broken,x,y", "unknown status"),
    ]
    assert load_rows(result)[0][2:] == (5, 3, 0, 2)


def test_a_stray_quote_does_not_swallow_the_lines_after_it(workspace):
    root = workspace.root
    lines = [
        "store_id,status,timestamp_utc,note",
        's1,active,2023-01-22 12:00:00,5" screen',  # 2: one quote, inside a field
        "s2,active,2023-01-22 12:00:00,x",
        's3,active,2023-01-22 12:00:00,"never closed',  # 4: would pair with 2: no record
        "s4,active,2023-01-22 12:00:00,x",
        's5,active,2023-01-22 12:00:00,"a real',  # 6: pairs with 7 after 4 failed with it
        'two-line note"',
        "s6,active,2023-01-22 12:00:00,x",
        's7,active,2023-01-22 12:00:00,"at the end',  # 9: nothing to pair with
        "s8,active,2023-01-22 12:00:00,x",
    ]
    (root / "s.csv").write_text("\n".join([*lines, ""]))
    _, hours, zones = workspace.files()
    ingest(workspace.con, root / "s.csv", hours, zones, allow_empty=True)
    assert [row[0] for row in polls(workspace)] == ["s2", "s4", "s5", "s6", "s8"]
    assert [(line, reason) for _, line, _, reason in rejected(workspace)] == [
        (2, "malformed CSV"),
        (4, "malformed CSV"),
        (9, "malformed CSV"),
    ]


def test_a_50_mb_line_is_rejected_with_its_number_and_the_rest_loads(workspace):
    root = workspace.root
    with (root / "s.csv").open("w") as out:
        out.write("store_id,status,timestamp_utc\ns1,active,2023-01-22 12:00:00\n")
        out.write("s2,active," + "9" * 50_000_000 + "\n")  # line 3
        out.write("s3,active,2023-01-22 13:00:00\n")
    _, hours, zones = workspace.files()
    started = time.perf_counter()
    result = ingest(workspace.con, root / "s.csv", hours, zones, allow_empty=True)
    assert time.perf_counter() - started < 10
    assert [row[0] for row in polls(workspace)] == ["s1", "s3"]
    [(line, raw, reason, detail)] = workspace.query(
        "SELECT line, raw, reason, detail FROM rejected_rows"
    )
    assert (line, reason) == (3, "line too long")
    assert raw.startswith("s2,active,999") and len(raw) < 300
    assert "50,000,010 bytes" in detail
    assert load_rows(result)[0][2:] == (3, 2, 0, 1)


def test_a_line_longer_than_the_reader_takes_is_named_not_an_engine_error():
    """Over 1 GiB DuckDB's reader stops; the message names the file and line, never DuckDB's
    text (which quotes the line). Too big to write in a test: DuckDB's error, as it reads."""
    from storemon.ingest import HOURS, POLLS, TIMEZONES, Input, _explain

    inputs = [
        Input(
            source,
            Path(f"/data/{source.prefix}.csv"),
            Path(f"/tmp/{source.prefix}.utf8.csv"),
            "utf-16 (transcoded)",
            {},
            r"\n",
            True,
        )
        for source in (POLLS, HOURS, TIMEZONES)
    ]
    cause = duckdb.InvalidInputException(
        "Invalid Input Error: CSV Error on Line: 1002\nOriginal Line: s1,active,xxxx\n"
        "Maximum line size of 1073741824 bytes exceeded. Actual Size:1073741900 bytes.\n\n"
        "  file = /tmp/hours.utf8.csv\n  delimiter =  (Set By User)\n"
    )
    error = StoremonError(f"11_hours_rows.sql failed: {cause}")
    error.__cause__ = cause
    for quote_files in (True, False):
        assert str(_explain(error, inputs, quote_files)) == (
            "business hours (menu_hours.csv): line 1002 of /data/hours.csv is longer than 1 GiB, "
            "more than storemon reads; fix or remove it and load again (nothing was changed)"
        )


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_a_utf16_file_with_a_byte_order_mark_is_transcoded(workspace, tmp_path, monkeypatch, codec):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    status, hours, zones = workspace.files(
        status=[("s1", "active", "2023-01-22 12:00:00"), ("s2", "maybe", "2023-01-22 12:00:00")],
        hours=[("s1", 0, "09:00", "17:00")],
        zones=[("s1", "Europe/Zürich"), ("s2", "America/Denver")],
    )
    for path in (status, zones):
        text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
        # Python's utf-16 codec writes the machine's order and a BOM; utf-16-be writes no BOM
        path.write_bytes(
            ("\ufeff" + text).encode(codec) if codec == "utf-16-be" else text.encode(codec)
        )
    result = ingest(workspace.con, status, hours, zones)
    assert [row[0] for row in polls(workspace)] == ["s1"]
    assert workspace.query("SELECT file, line, raw, reason FROM rejected_rows ORDER BY ALL") == [
        (str(status), 3, "s2,maybe,2023-01-22 12:00:00", "unknown status"),
        (str(zones), 2, "s1,Europe/Zürich", "unknown time zone"),
    ]
    assert workspace.query("SELECT file, encoding FROM load_summary ORDER BY source") == [
        (str(hours), "utf-8"),
        (str(status), "utf-16 (transcoded)"),
        (str(zones), "utf-16 (transcoded)"),
    ]
    assert load_rows(result)[0][1] == str(status)
    assert list(scratch.iterdir()) == []  # the transcoded copies are gone
    # ... also when the load fails
    write_csv(hours, ("store_id", "day", "start_time_local"), [("s1", 0, "09:00")])
    with pytest.raises(StoremonError, match="has no column 'end_time_local'"):
        ingest(workspace.con, status, hours, zones)
    assert list(scratch.iterdir()) == []


def test_a_tab_separated_file_is_named_as_such(workspace):
    """What a spreadsheet's "Unicode text" export usually is: UTF-16 and tab-separated."""
    status, hours, zones = workspace.files(status=[("s1", "active", "2023-01-22 12:00:00")])
    status.write_bytes(
        "store_id\tstatus\ttimestamp_utc\r\ns1\tactive\t2023-01-22 12:00:00\r\n".encode("utf-16")
    )
    for quote_files in (True, False):
        with pytest.raises(StoremonError) as caught:
            ingest(workspace.con, status, hours, zones, quote_files=quote_files, allow_empty=True)
        assert str(caught.value).startswith(
            f"polls (store_status.csv): {status} is tab-separated (its header has tabs and no "
            "commas)"
        )


def test_two_stray_quotes_far_apart_do_not_make_one_record_of_the_lines_between(workspace):
    """The lines from one stray quote to the next would parse as one record of the header's
    width; over 1 MiB they are not one record, and every line between loads."""
    root = workspace.root
    good = [f"s{i},active,2023-01-22 12:00:00,x" for i in range(40_000)]  # 1.3 MB
    lines = [
        "store_id,status,timestamp_utc,note",
        's-open,active,2023-01-22 12:00:00,"opens a note',
        *good,
        'closes it"',
    ]
    (root / "s.csv").write_text("\n".join([*lines, ""]))
    _, hours, zones = workspace.files()
    ingest(workspace.con, root / "s.csv", hours, zones, allow_empty=True)
    assert workspace.query("SELECT count(*) FROM polls") == [(40_000,)]
    assert [(line, reason) for _, line, _, reason in rejected(workspace)] == [
        (2, "malformed CSV"),
        (40_003, "malformed CSV"),
    ]


def test_a_zone_is_read_once_however_many_a_page_shows(monkeypatch):
    """zoneinfo keeps only the eight zones used last for sure (it reads a ninth's file again);
    the pages use zones.zone_of, which keeps each it was asked for (one per IANA name)."""
    reads: list[str] = []
    real = zoneinfo.ZoneInfo

    def read(name: str) -> zoneinfo.ZoneInfo:
        reads.append(name)
        return real.no_cache(name)

    monkeypatch.setattr(zones.zoneinfo, "ZoneInfo", read)
    zone_of.cache_clear()
    names = list(iana_names())[:20]
    for _ in range(3):
        assert [str(zone_of(name)) for name in names] == names
    assert reads == names  # each read once
    zone_of.cache_clear()  # (the real zones again, for the tests after)
