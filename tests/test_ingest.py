"""The loader: every accepted spelling, every rejection reason, and all-or-nothing loads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storemon.errors import StoremonError
from storemon.ingest import ingest
from tests.conftest import write_csv


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
    ingest(workspace.con, status, hours, zones)
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
    result = ingest(workspace.con, root / "s.csv", hours, zones)
    assert polls(workspace) == [
        ('s"3', "2023-01-22 14:00:00.000000", True),
        ("s,2", "2023-01-22 13:00:00.000000", False),
        ("s1", "2023-01-22 12:00:00.000000", True),
    ]
    assert result.summary[0][2:] == (3, 3, 0, 0)


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
    assert ("polls", "bad timestamp", 3) in result.reasons
    # Every rejected row says what was wrong and what would be right.
    details = dict(workspace.query("SELECT line, detail FROM rejected_rows WHERE source = 'polls'"))
    assert "2023-02-30 12:00:00" in details[3] and "YYYY-MM-DD HH:MM:SS" in details[3]
    assert '"online"' in details[6]


def test_a_poll_dated_more_than_5_minutes_after_the_load_is_rejected(workspace):
    """SPEC "Inputs": a poll from the future (here 2100) would stretch every report to it."""
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
    assert ("polls", "timestamp in the future", 1) in result.reasons
    assert [row[0] for row in polls(workspace)] == ["s1", "s2"]
    assert workspace.query("SELECT max(timestamp_utc) > now() FROM polls") == [(True,)]


def test_a_quote_that_never_closes_is_rejected(workspace):
    root = workspace.root
    (root / "s.csv").write_text('store_id,status,timestamp_utc\n"s1,active,2023-01-22 12:00:00\n')
    _, hours, zones = workspace.files()
    ingest(workspace.con, root / "s.csv", hours, zones)
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
    assert [row[3:] for row in result.summary] == [(1, 2, 0), (1, 1, 0), (1, 1, 0)]


def test_loading_the_same_files_twice_gives_the_same_tables(workspace):
    files = workspace.files(
        status=[("s1", "active", "2023-01-22 12:00:00"), ("s2", "oops", "x")],
        hours=[("s1", 0, "09:00", "17:00")],
        zones=[("s1", "UTC")],
    )
    tables = ["stores", "polls", "business_hours", "store_timezones", "rejected_rows"]

    def snapshot():
        return {
            t: workspace.query(f"SELECT COLUMNS(*)::VARCHAR FROM {t} ORDER BY ALL") for t in tables
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
        ingest(workspace.con, status, hours, zones)
    assert str(status) in str(caught.value)
    assert polls(workspace) == before
    assert workspace.query("SELECT timezone FROM store_timezones") == [("UTC",)]
