"""The full load's memory (issue 11, "Memory that does not grow with the file"): DuckDB's memory
limit held during the load and put back after, the files' text not kept once parsed, each file
read with small buffers unless it has a longer line, and lines numbered as before (also inside a
transaction, as sql/append/ parses a batch)."""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

import duckdb
import pytest

from storemon.database import sql_dir
from storemon.errors import StoremonError
from storemon.ingest import (
    LOAD_MEMORY_LIMIT,
    LONG_LINES,
    POLLS,
    SHORT_LINES,
    _setting_bytes,
    ingest,
    open_input,
    use_input,
)

STATUS = (
    b"store_id,status,timestamp_utc\n"
    b"s1,active,2023-01-22 12:00:00\n"
    b"\n"  # line 3: blank, not a row
    b"s2,open,2023-01-22 12:00:00\n"  # line 4: unknown status
    b"s3,inactive,2023-01-22 12:00:00\n"
)


def memory_limit(con) -> str:
    return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]


def test_the_load_holds_memory_to_its_limit_and_puts_the_setting_back(workspace):
    before = memory_limit(workspace.con)
    during = []
    status, hours, zones = workspace.files(status=[("s1", "active", "2023-01-22 12:00:00")])
    ingest(
        workspace.con,
        status,
        hours,
        zones,
        allow_empty=True,
        log=lambda _: during.append(memory_limit(workspace.con)),
    )
    assert set(during) == {"768.0 MiB"} and LOAD_MEMORY_LIMIT == 768 << 20
    assert memory_limit(workspace.con) == before  # exactly: not "18.7 GiB" for "18.8 GiB"


def test_a_limit_set_lower_is_kept_and_a_failed_load_puts_the_setting_back(workspace):
    workspace.con.execute("SET memory_limit = '700MiB'")
    status, hours, zones = workspace.files(status=[("s1", "active", "2023-01-22 12:00:00")])
    during = []
    ingest(
        workspace.con,
        status,
        hours,
        zones,
        allow_empty=True,
        log=lambda _: during.append(memory_limit(workspace.con)),
    )
    assert set(during) == {"700.0 MiB"}
    workspace.con.execute("RESET memory_limit")
    before = memory_limit(workspace.con)
    status.write_bytes(b"store_id,status,timestamp_utc\ns1,active,\xff\xfe\n")  # not UTF-8
    with pytest.raises(StoremonError, match="not UTF-8"):
        ingest(workspace.con, status, hours, zones, allow_empty=True)
    assert memory_limit(workspace.con) == before


def test_the_files_text_is_not_kept_once_parsed(workspace):
    workspace.load(status=[("s1", "active", "2023-01-22 12:00:00")])
    temp = {
        name
        for (name,) in workspace.query(
            "SELECT table_name FROM duckdb_tables() WHERE temporary UNION ALL "
            "SELECT view_name FROM duckdb_views() WHERE temporary"
        )
    }
    assert {"poll_rows", "hours_rows", "timezone_rows"} <= temp
    assert not temp & {"status_lines", "hours_lines", "timezone_lines", "status_numbered"}


def test_a_line_longer_than_the_first_reading_takes_is_read_again(workspace):
    root = workspace.root
    with (root / "s.csv").open("w") as out:
        out.write("store_id,status,timestamp_utc\ns1,active,2023-01-22 12:00:00\n")
        out.write("s2,active," + "9" * (SHORT_LINES + 10) + "\n")  # line 3
        out.write("s3,active,2023-01-22 13:00:00\n")
    _, hours, zones = workspace.files()
    said = []
    before = memory_limit(workspace.con)
    ingest(workspace.con, root / "s.csv", hours, zones, allow_empty=True, log=said.append)
    assert any("a line is longer than 2 MiB: reading" in line for line in said)
    assert workspace.query("SELECT source, line, reason FROM rejected_rows") == [
        ("polls", 3, "line too long")
    ]
    assert workspace.query("SELECT count(*) FROM polls") == [(2,)]
    assert memory_limit(workspace.con) == before


@pytest.mark.parametrize("in_transaction", [False, True])
def test_lines_are_numbered_alike_in_and_out_of_a_transaction(tmp_path, in_transaction):
    """sql/append/ parses a batch inside its transaction, where a new table's rowids do not start
    at 0: the line numbers must not change."""
    (tmp_path / "s.csv").write_bytes(STATUS)
    con = duckdb.connect(str(tmp_path / "db.duckdb"))
    con.execute("SET TimeZone = 'UTC'")
    with ExitStack() as scratch:
        use_input(con, open_input(tmp_path / "s.csv", POLLS, scratch))
        if in_transaction:
            con.execute("BEGIN TRANSACTION")
        for name in ("00_parse_macros.sql", "10_poll_rows.sql"):
            con.execute((sql_dir() / "load" / name).read_text())
        rows = con.execute("SELECT line, store_id, reason FROM poll_rows ORDER BY line").fetchall()
    assert rows == [(2, "s1", None), (4, "s2", "unknown status"), (5, "s3", None)]
    assert (
        con.execute("SELECT getvariable('status_max_line_size')").fetchone()[0] == LONG_LINES
    )  # the default for one file parsed on its own, as today


def test_a_database_in_memory_spills_to_the_system_temporary_folder(tmp_path):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    (tmp_path / "s.csv").write_bytes(STATUS)
    (tmp_path / "h.csv").write_text("store_id,dayOfWeek,start_time_local,end_time_local\n")
    (tmp_path / "z.csv").write_text("store_id,timezone_str\n")
    ingest(con, tmp_path / "s.csv", tmp_path / "h.csv", tmp_path / "z.csv", allow_empty=True)
    folder = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert Path(folder).parent == Path(tempfile.gettempdir())
    assert not Path(folder).exists()  # nothing spilled: DuckDB made no folder


def test_memory_settings_are_read_in_bytes():
    assert _setting_bytes("18.8 GiB") == pytest.approx(18.8 * 2**30)
    assert _setting_bytes("953.6 MiB") == pytest.approx(953.6 * 2**20)
    assert _setting_bytes("1GB") == 10**9
    assert _setting_bytes("512 bytes") == 512
    assert _setting_bytes("nonsense") == float("inf")  # unknown: the load's limit applies
